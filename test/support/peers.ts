/**
 * The third-party peer harness, one import for tests: launchers for real FTP servers (vsftpd, pure-ftpd,
 * proftpd, pyftpdlib) on loopback, bounded runners for real FTP clients (curl, lftp, Python ftplib), and
 * requirePeer/peerSkip (skip locally with a reason; fail under FTPKIT_REQUIRE_PEERS=1, as .ci/run sets).
 * How to use it: docs/testing.md.
 */
export * from './peers-common.js';
export * from './peers-servers.js';
export * from './peers-clients.js';
export * from './peers-fixtures.js';
