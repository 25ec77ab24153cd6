// basic-ftp (npm) as a client for the bench: one download or upload, then exit. Plain JavaScript so that it
// starts as fast as Node itself (no TypeScript loader). Arguments as JSON in argv[2]:
// {host, port, user, password, tls, op: "download" | "upload", remote, local}. Exit 0 on success.
import { Client } from 'basic-ftp';

const a = JSON.parse(process.argv[2]);
const client = new Client(120_000);
try {
  await client.access({
    host: a.host, port: a.port, user: a.user, password: a.password,
    secure: a.tls, secureOptions: a.tls ? { rejectUnauthorized: false } : undefined,
  });
  if (a.op === 'download') await client.downloadTo(a.local, a.remote);
  else await client.uploadFrom(a.local, a.remote);
} catch (err) {
  process.stderr.write(`basic-ftp: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  client.close();
}
