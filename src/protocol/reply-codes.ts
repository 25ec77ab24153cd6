/**
 * Named FTP reply codes, each with the RFC section that defines its use.
 * Handlers and clients refer to these names, never to bare numbers.
 */
export const ReplyCode = {
  RestartMarker: 110,                 // RFC 959 s4.2
  ServiceReadyInMinutes: 120,         // RFC 959 s4.2
  DataConnectionAlreadyOpen: 125,     // RFC 959 s4.2: transfer starting
  FileStatusOk: 150,                  // RFC 959 s4.2: about to open data connection
  Ok: 200,                            // RFC 959 s4.2
  NotImplementedSuperfluous: 202,     // RFC 959 s4.2 (e.g. ALLO, ACCT not needed)
  SystemStatus: 211,                  // RFC 959 s4.2; FEAT reply (RFC 2389 s3.2)
  DirectoryStatus: 212,               // RFC 959 s4.2 (STAT path)
  FileStatus: 213,                    // RFC 959 s4.2; SIZE/MDTM (RFC 3659 s3, s4); STAT path (RFC 959)
  HelpMessage: 214,                   // RFC 959 s4.2
  SystemType: 215,                    // RFC 959 s4.2
  ServiceReady: 220,                  // RFC 959 s4.2
  ClosingControl: 221,                // RFC 959 s4.2
  DataConnectionOpen: 225,            // RFC 959 s4.2 (ABOR with no transfer)
  ClosingData: 226,                   // RFC 959 s4.2: transfer complete
  EnteringPassive: 227,               // RFC 959 s4.1.2 PASV
  EnteringLongPassive: 228,           // RFC 1639 LPSV (not implemented)
  EnteringExtendedPassive: 229,       // RFC 2428 s3 EPSV
  LoggedIn: 230,                      // RFC 959 s4.2
  SecurityExchangeOk: 234,            // RFC 2228 s4 AUTH
  FileActionOk: 250,                  // RFC 959 s4.2
  PathCreated: 257,                   // RFC 959 s4.2 MKD / PWD
  NeedPassword: 331,                  // RFC 959 s4.2
  NeedAccount: 332,                   // RFC 959 s4.2
  PendingFurtherInformation: 350,     // RFC 959 s4.2 (REST, RNFR)
  ServiceNotAvailable: 421,           // RFC 959 s4.2: closing control connection
  CantOpenDataConnection: 425,        // RFC 959 s4.2
  ConnectionClosedTransferAborted: 426, // RFC 959 s4.2
  InvalidUsernameOrPassword: 430,     // RFC 2228 (not used for login failure; 530 is)
  NeedUnavailableResource: 431,       // RFC 2228 s5 / RFC 4217 s4: TLS not available right now (e.g. no certificate)
  FileActionNotTaken: 450,            // RFC 959 s4.2: file unavailable (busy)
  LocalError: 451,                    // RFC 959 s4.2
  InsufficientStorage: 452,           // RFC 959 s4.2
  SyntaxError: 500,                   // RFC 959 s4.2: command unrecognized / line too long
  SyntaxErrorInParameters: 501,       // RFC 959 s4.2
  CommandNotImplemented: 502,         // RFC 959 s4.2
  BadSequence: 503,                   // RFC 959 s4.2
  ParameterNotImplemented: 504,       // RFC 959 s4.2
  ProtocolNotSupported: 522,          // RFC 2428 s2/s3: network protocol not supported, (1,2)
  TlsSessionReuseRequired: 522,       // RFC 4217 s9/s10: TLS negotiation on the data connection failed or was unacceptable (vsftpd: session reuse required)
  DataProtectionRequired: 521,        // RFC 4217 s9: data connection cannot be opened with this PROT setting
  NotLoggedIn: 530,                   // RFC 959 s4.2
  NeedAccountForStoring: 532,         // RFC 959 s4.2
  CommandProtectionDenied: 533,       // RFC 2228
  RequestDeniedPolicy: 534,           // RFC 2228 / RFC 4217 (TLS policy)
  ProtectionLevelNotSupported: 536,   // RFC 2228 s4 PROT
  FileUnavailable: 550,               // RFC 959 s4.2
  PageTypeUnknown: 551,               // RFC 959 s4.2
  ExceededStorageAllocation: 552,     // RFC 959 s4.2
  FileNameNotAllowed: 553,            // RFC 959 s4.2
  InvalidRestParameter: 554,          // RFC 3659 s5.4: requested action not taken, invalid REST parameter
} as const;

export type ReplyCodeName = keyof typeof ReplyCode;
