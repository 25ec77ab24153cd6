/**
 * The server's NAT features: the passive address and port to advertise, and the active connect-back source.
 * The server's data layer calls these through its passive-address seam; everything here is socket-free
 * except activeConnectOptions' output, which the data layer hands to net.connect.
 */
export {
  PassiveAdvertiser, PassivePortMap,
  type PassiveContext, type NatAdvertisement, type PassiveWarning, type PassiveAdvertiserOptions, type Lookup4,
} from './passive-address.js';
export {
  activeConnectOptions, activeConnectError, validateActiveSource, checkActiveSourcePrivilege,
  type ActiveConnectOptions, type ActiveConnectTarget,
} from './active-source.js';
export { parsePasvAddressMap, parsePortRangeMap } from './cli-syntax.js';
export { natPassiveAddressResolver } from './seam.js';
