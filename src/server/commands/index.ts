/**
 * The default command modules, composed into the server's one command table.
 * A new concern (FTPS: AUTH/PBSZ/PROT/CCC) is one more module in this list (or passed to FtpServer).
 */
import type { CommandModule } from './contract.js';
import { authCommands } from './auth.js';
import { dataSetupCommands } from './data-setup.js';
import { fileCommands } from './files.js';
import { hashCommands } from './hash.js';
import { infoCommands } from './info.js';
import { listingCommands } from './listing.js';
import { navigationCommands } from './navigation.js';
import { siteCommands } from './site.js';
import { transferCommands } from './transfers.js';

export const defaultCommandModules: readonly CommandModule[] = Object.freeze([
  authCommands,
  infoCommands,
  navigationCommands,
  fileCommands,
  listingCommands,
  transferCommands,
  dataSetupCommands,
  siteCommands,
  hashCommands,
]);
