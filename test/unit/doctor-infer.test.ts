import { test } from 'node:test';
import assert from 'node:assert/strict';
import { infer, type InferenceInput } from '../../src/doctor/infer.js';
import { planMatrix, settingsFor, preferenceRank } from '../../src/doctor/plan.js';
import { equivalents } from '../../src/doctor/equivalents.js';
import type { DataProbeResult, Outcome, StepResult } from '../../src/doctor/types.js';

const OK: Outcome = { kind: 'ok', ms: 40 };
const dataTimeout = (endpoint: string): Outcome => ({ kind: 'timeout', ms: 5000, connection: 'data', phase: 'connect', endpoint });
const dataRefused = (endpoint: string): Outcome => ({ kind: 'refused', ms: 3, connection: 'data', phase: 'connect', endpoint });
const reply = (phase: string, replyCode: number, replyText: string, ms = 20): Outcome => ({ kind: 'reply', ms, phase, replyCode, replyText });

function okSteps(): StepResult[] {
  return (['resolve', 'tcp', 'greeting', 'features', 'login'] as const).map(id => ({ id, title: id, outcome: OK, summary: '', evidence: [] }));
}

/** Build matrix results: every planned cell gets `fallback` unless `cells` says otherwise. */
function matrix(opts: { tls?: boolean; cleartext?: boolean; portRange?: { min: number; max: number }; portAddress?: string },
  cells: Record<string, Partial<DataProbeResult>>, fallback: Outcome = OK): DataProbeResult[] {
  const specs = planMatrix({ ipv6: false, cleartext: opts.cleartext ?? true, tls: opts.tls ?? true,
    ...(opts.portRange ? { portRange: opts.portRange } : {}), ...(opts.portAddress ? { portAddress: opts.portAddress } : {}) });
  // A TLS 1.2 cell behaves like its TLS cell unless the test says otherwise.
  return specs.map(spec => ({ spec, outcome: fallback, evidence: [],
    ...(cells[spec.id] ?? (spec.tlsVersion ? cells[spec.id.replace(/12$/, '')] : undefined) ?? {}) }));
}

function input(m: DataProbeResult[], extra: Partial<InferenceInput> = {}): InferenceInput {
  return { host: '198.18.2.2', port: 21, controlAddress: '198.18.2.2', localAddress: '198.18.10.2',
    steps: okSteps(), matrix: m, secure: 'explicit', ...extra };
}

const codes = (r: ReturnType<typeof infer>) => r.causes.map(c => c.code);

test('plan: cells per mode, TLS doubles them, IPv6 drops PASV/PORT', () => {
  const ids = planMatrix({ ipv6: false, cleartext: true, tls: false }).map(s => s.id);
  assert.deepEqual(ids, ['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local']);
  const all = planMatrix({ ipv6: false, cleartext: true, tls: true, portRange: { min: 50000, max: 50010 }, portAddress: '198.18.1.2' });
  assert.equal(all.length, 21);
  assert.deepEqual(all.filter(x => x.tlsVersion).map(x => x.id), ['epsv+tls12', 'pasv-control+tls12', 'eprt-local+tls12']);
  assert.ok(all.some(s => s.id === 'port-public+tls' && s.advertiseAddress === '198.18.1.2' && s.portRange?.min === 50000));
  assert.deepEqual(planMatrix({ ipv6: true, cleartext: true, tls: false }).map(s => s.id), ['epsv', 'eprt-local']);
  const s = settingsFor(all.find(x => x.id === 'pasv-control+tls')!, { secure: 'explicit', tls: { rejectUnauthorized: false } });
  assert.deepEqual(s, { secure: 'explicit', tls: { rejectUnauthorized: false, protectData: true },
    data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'control' }, fallback: false } });
  assert.ok(preferenceRank(all.find(x => x.id === 'epsv+tls')!) < preferenceRank(all.find(x => x.id === 'epsv')!));
});

test('everything works: no cause, TLS EPSV recommended', () => {
  const r = infer(input(matrix({}, {})));
  assert.deepEqual(codes(r), []);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
  assert.equal(r.recommended?.settings.secure, 'explicit');
  assert.equal(r.works.length, 13);
});

test('server behind NAT advertising its private address in PASV', () => {
  const m = matrix({}, {
    'pasv-reply': { outcome: dataTimeout('10.0.20.2:30001'), advertised: { host: '10.0.20.2', port: 30001 } },
    'pasv-control': { advertised: { host: '10.0.20.2', port: 30002 } },
    'pasv-reply+tls': { outcome: dataTimeout('10.0.20.2:30003'), advertised: { host: '10.0.20.2', port: 30003 } },
    'pasv-control+tls': { advertised: { host: '10.0.20.2', port: 30004 } },
  });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['server-private-pasv-address']);
  const c = r.causes[0];
  assert.match(c.title, /behind NAT.*10\.0\.20\.2/);
  assert.match(c.detail, /5\.0 s/);
  assert.match(c.adminFix!, /pasv_address=198\.18\.2\.2/);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('FTP ALG: cleartext passive works (reply rewritten), TLS passive is dropped -> ALG blind under TLS', () => {
  const m = matrix({}, {
    'pasv-reply': { advertised: { host: '198.18.2.2', port: 30001 } },
    'pasv-control': { advertised: { host: '198.18.2.2', port: 30002 } },
    'epsv+tls': { outcome: dataTimeout('198.18.2.2:30005'), advertised: { port: 30005 } },
    'pasv-reply+tls': { outcome: dataTimeout('10.0.20.2:30003'), advertised: { host: '10.0.20.2', port: 30003 } },
    'pasv-control+tls': { outcome: dataTimeout('198.18.2.2:30004'), advertised: { host: '10.0.20.2', port: 30004 } },
  });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['alg-blind-under-tls']);
  assert.match(r.causes[0].title, /ALG.*passive.*TLS/);
  assert.match(r.causes[0].detail, /198\.18\.2\.2.*10\.0\.20\.2/);
  // TLS active still works: preferred over cleartext passive.
  assert.equal(r.recommended?.probeId, 'eprt-local+tls');
});

test('server firewall drops its passive ports; active works', () => {
  const m = matrix({}, Object.fromEntries(['epsv', 'pasv-reply', 'pasv-control', 'epsv+tls', 'pasv-reply+tls', 'pasv-control+tls', 'epsv+tls12', 'pasv-control+tls12']
    .map((id, i) => [id, { outcome: dataTimeout(`198.18.20.2:${30000 + i}`), advertised: { host: '198.18.20.2', port: 30000 + i } }])));
  const r = infer(input(m, { controlAddress: '198.18.20.2', host: '198.18.20.2' }));
  assert.deepEqual(codes(r), ['server-passive-ports-dropped']);
  assert.match(r.causes[0].title, /drops.*30000, 30001/);
  assert.match(r.causes[0].userFix!, /active/);
  assert.equal(r.recommended?.probeId, 'eprt-local+tls');
  assert.equal(r.recommended?.settings.data?.mode, 'active');
});

test('server firewall rejects its passive ports (fast reset)', () => {
  const m = matrix({}, Object.fromEntries(['epsv', 'pasv-reply', 'pasv-control', 'epsv+tls', 'pasv-reply+tls', 'pasv-control+tls', 'epsv+tls12', 'pasv-control+tls12']
    .map(id => [id, { outcome: dataRefused('198.18.20.2:30001'), advertised: { host: '198.18.20.2', port: 30001 } }])));
  const r = infer(input(m, { controlAddress: '198.18.20.2' }));
  assert.deepEqual(codes(r), ['server-passive-ports-refused']);
  assert.match(r.causes[0].detail, /refused after 3 ms/);
});

test('client firewall blocks the connect-back in active mode', () => {
  const m = matrix({}, {
    'eprt-local': { outcome: reply('LIST', 425, 'Failed to establish connection.', 5100) },
    'port-local': { outcome: dataTimeout('198.18.10.2:40001') },
    'eprt-local+tls': { outcome: reply('LIST', 425, 'Failed to establish connection.', 5100) },
    'port-local+tls': { outcome: reply('LIST', 425, 'Failed to establish connection.', 5100) },
  });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['client-active-blocked']);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('client firewall allows only a port range: active with the range works', () => {
  const range = { min: 50000, max: 50010 };
  const m = matrix({ portRange: range }, {
    'eprt-local': { outcome: dataTimeout('198.18.10.2:40001') },
    'port-local': { outcome: dataTimeout('198.18.10.2:40002') },
    'eprt-local+tls': { outcome: dataTimeout('198.18.10.2:40003') },
    'port-local+tls': { outcome: dataTimeout('198.18.10.2:40004') },
  });
  const r = infer(input(m, { portRange: range }));
  assert.deepEqual(codes(r), ['client-active-port-range']);
  assert.match(r.causes[0].title, /50000-50010/);
});

test('client behind NAT: PORT with the private address refused, public address works', () => {
  const range = { min: 50000, max: 50010 };
  const m = matrix({ portRange: range, portAddress: '198.18.1.2' }, {
    'eprt-local': { outcome: reply('EPRT', 500, 'Illegal PORT command.') },
    'port-local': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
    'eprt-range': { outcome: reply('EPRT', 500, 'Illegal PORT command.') },
    'port-range': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
    'eprt-local+tls': { outcome: reply('EPRT', 500, 'Illegal PORT command.') },
    'port-local+tls': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
    'eprt-range+tls': { outcome: reply('EPRT', 500, 'Illegal PORT command.') },
    'port-range+tls': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
  });
  const r = infer(input(m, { localAddress: '192.168.10.2', portRange: range, portAddress: '198.18.1.2' }));
  assert.deepEqual(codes(r), ['client-nat-port-refused']);
  assert.match(r.causes[0].title, /behind NAT.*192\.168\.10\.2/);
  assert.match(r.causes[0].userFix!, /198\.18\.1\.2/);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('client behind NAT without forwarding: public address accepted, connect-back fails', () => {
  const m = matrix({ portAddress: '198.18.1.2' }, {
    'eprt-local': { outcome: reply('EPRT', 500, 'Illegal PORT command.') },
    'port-local': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
    'eprt-public': { outcome: reply('LIST', 425, 'Failed to establish connection.', 5000) },
    'port-public': { outcome: reply('LIST', 425, 'Failed to establish connection.', 5000) },
  });
  const r = infer(input(m, { localAddress: '192.168.10.2', portAddress: '198.18.1.2', matrix: m.filter(x => !x.spec.tls) }));
  assert.deepEqual(codes(r), ['client-nat-port-refused', 'client-nat-no-forward']);
});

test('EPSV/EPRT unsupported (500): PASV recommended', () => {
  const m = matrix({}, {
    'epsv': { outcome: reply('EPSV', 500, "Command 'EPSV' not understood.") },
    'epsv+tls': { outcome: reply('EPSV', 500, "Command 'EPSV' not understood.") },
    'eprt-local': { outcome: reply('EPRT', 500, "Command 'EPRT' not understood.") },
    'eprt-local+tls': { outcome: reply('EPRT', 500, "Command 'EPRT' not understood.") },
  });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['epsv-unsupported']);
  assert.match(r.causes[0].title, /EPSV or EPRT/);
  assert.equal(r.recommended?.probeId, 'pasv-reply+tls');
  assert.deepEqual(r.recommended?.settings.data?.passive, { command: 'pasv', addressPolicy: 'reply' });
});

test('EPSV eaten by a middlebox while PASV works', () => {
  const m = matrix({ tls: false }, { epsv: { outcome: dataTimeout('198.18.2.2:30001'), advertised: { port: 30001 } } });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['epsv-unusable']);
  assert.equal(r.recommended?.probeId, 'pasv-reply');
});

test('TLS required before login', () => {
  const steps = okSteps();
  steps.find(s => s.id === 'login')!.outcome = reply('PASS', 530, 'Anonymous sessions must use encryption.');
  const r = infer(input(matrix({ cleartext: false }, {}), { steps }));
  assert.deepEqual(codes(r), ['tls-required']);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('control port dropped vs refused, with times', () => {
  const steps: StepResult[] = [
    { id: 'resolve', title: '', outcome: OK, summary: '', evidence: [] },
    { id: 'tcp', title: '', outcome: { kind: 'timeout', ms: 5002, connection: 'control', endpoint: '198.18.2.2:21' }, summary: '', evidence: [] },
  ];
  const r = infer(input([], { steps, controlAddress: undefined }));
  assert.deepEqual(codes(r), ['control-port-dropped']);
  assert.match(r.causes[0].title, /port 21 is blocked.*firewall or the ISP/);
  assert.match(r.causes[0].detail, /5\.0 s/);
  assert.equal(r.recommended, undefined);
  steps[1].outcome = { kind: 'refused', ms: 2, connection: 'control', endpoint: '198.18.2.2:21' };
  const r2 = infer(input([], { steps, controlAddress: undefined }));
  assert.deepEqual(codes(r2), ['control-port-refused']);
  assert.match(r2.causes[0].detail, /2 ms/);
});

test('a session the server ended while others held its passive ports does not hide the dropped ports', () => {
  // vsftpd with a 10-port range and 15 concurrent cells: one cell's EPSV hits "500 OOPS: vsf_sysutil_bind"
  // (cleartext) and the process exits; under TLS that cleartext line breaks the record layer.
  const ids = ['epsv', 'pasv-reply', 'pasv-control', 'epsv+tls', 'pasv-reply+tls', 'pasv-control+tls', 'epsv+tls12', 'pasv-control+tls12'];
  const m = matrix({}, Object.fromEntries(ids
    .map((id, i) => [id, { outcome: dataTimeout(`198.18.20.2:${30000 + i}`), advertised: { host: '198.18.20.2', port: 30000 + i } }])));
  const oops = reply('EPSV', 500, 'OOPS: vsf_sysutil_bind, maximum number of attempts to find a listening port exceeded');
  const brokenRecord: Outcome = { kind: 'reset', ms: 40, connection: 'control', phase: 'command',
    message: 'control connection reset: 1C0A0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number' };
  const at = (id: string) => m.find(r => r.spec.id === id)!;
  Object.assign(at('epsv'), { outcome: oops, advertised: undefined });
  Object.assign(at('epsv+tls12'), { outcome: brokenRecord, advertised: undefined });
  const r = infer(input(m, { controlAddress: '198.18.20.2', host: '198.18.20.2' }));
  assert.deepEqual(codes(r), ['server-passive-ports-dropped']);
  // A 500 that is not vsftpd's OOPS still means "EPSV not understood".
  Object.assign(at('epsv'), { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') });
  Object.assign(at('epsv+tls'), { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') });
  Object.assign(at('epsv+tls12'), { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') });
  assert.ok(codes(infer(input(m, { controlAddress: '198.18.20.2', host: '198.18.20.2' }))).includes('epsv-unsupported'));
});

test('no greeting but implicit TLS answers -> implicit FTPS port', () => {
  const steps: StepResult[] = [
    { id: 'tcp', title: '', outcome: OK, summary: '', evidence: [] },
    { id: 'greeting', title: '', outcome: { kind: 'timeout', ms: 3000, connection: 'control', phase: 'greeting' }, summary: '', evidence: [] },
    { id: 'implicit-tls', title: '', outcome: OK, summary: '', evidence: [] },
  ];
  const r = infer(input(matrix({ cleartext: false }, {}), { steps, port: 990, secure: 'implicit' }));
  assert.deepEqual(codes(r), ['implicit-tls-port']);
  assert.equal(r.recommended?.settings.secure, 'implicit');
});

test('nothing works: both directions blocked, no recommendation probe', () => {
  const m = matrix({ tls: false }, {}, dataTimeout('198.18.2.2:30001'));
  const r = infer(input(m));
  assert.ok(codes(r).includes('nothing-works'));
  assert.ok(codes(r).includes('server-passive-ports-dropped'));
  assert.equal(r.recommended, undefined);
});

test('read-only access is a note, not a diagnosis', () => {
  const m = matrix({ tls: false }, {}).map(x => ({ ...x, transfer: { upload: 'readonly' as const, download: 'skipped' as const, delete: 'skipped' as const, note: '553 Could not create file.' } }));
  const r = infer(input(m));
  assert.deepEqual(codes(r), []);
  assert.deepEqual(r.notes.map(n => n.code), ['readonly']);
  assert.match(r.notes[0]!.detail, /553 Could not create file/);
  assert.equal(r.recommended?.probeId, 'epsv');
});

test('a session limit the pool met is a note, not a diagnosis', () => {
  const r = infer({ ...input(matrix({ tls: false }, {})), sessionLimit: { sessions: 2, reply: '421 Too many connections from your address' } });
  assert.deepEqual(codes(r), []);
  assert.deepEqual(r.notes.map(n => n.title), ['the server allows 2 sessions from your address']);
});

test('equivalents: curl, lftp and FileZilla words', () => {
  const e = equivalents({ secure: 'explicit', tls: { rejectUnauthorized: false }, data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'control' } } },
    { host: '198.18.2.2', port: 21 });
  assert.match(e.curl, /--ssl-reqd --insecure --disable-epsv --ftp-skip-pasv-ip ftp:\/\/198\.18\.2\.2:21\//);
  assert.match(e.lftp, /ftp:ssl-force yes.*ftp:ignore-pasv-address yes/);
  assert.match(e.filezilla, /Require explicit FTP over TLS.*Passive/);
  const a = equivalents({ secure: 'none', data: { mode: 'active', active: { command: 'port', portRange: { min: 50000, max: 50010 }, advertiseAddress: '198.18.1.2' } } },
    { host: '198.18.2.2', port: 21 });
  assert.match(a.curl, /-P 198\.18\.1\.2:50000-50010 --disable-eprt/);
  assert.match(a.lftp, /ftp:ssl-allow no.*ftp:port-range 50000-50010.*ftp:port-ipv4 198\.18\.1\.2/);
  assert.match(a.filezilla, /Active.*50000 to 50010.*198\.18\.1\.2/);
});

test('client NAT with an ALG: PORT rewritten in cleartext, refused under TLS -> ALG on your side', () => {
  const refused = { outcome: reply('EPRT', 500, 'Illegal PORT command.') };
  const m = matrix({}, { 'eprt-local+tls': refused, 'port-local+tls': { outcome: reply('PORT', 500, 'Illegal PORT command.') } });
  const r = infer(input(m, { localAddress: '192.168.10.2' }));
  assert.deepEqual(codes(r), ['alg-blind-under-tls']);
  assert.match(r.causes[0].title, /your side.*active/);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('a TLS cell whose data connection opened and then went silent is the server stalling, not an ALG', () => {
  // pyftpdlib (single-threaded) stalls a session now and then under a burst of TLS handshakes: the server
  // connected back (or accepted), then nothing moved. The path works; no cause may come of it.
  const stalled: Outcome = { kind: 'timeout', ms: 4000, connection: 'data', phase: 'transfer', endpoint: '198.18.10.2:42083', dataOpened: true };
  // S8's server: no RFC 2428 at all.
  const eprt500 = { outcome: reply('EPRT', 500, 'Command "EPRT" not understood.') };
  const epsv500 = { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') };
  const s8 = { epsv: epsv500, 'epsv+tls': epsv500, 'eprt-local': eprt500, 'eprt-local+tls': eprt500 };
  const active = matrix({}, { ...s8, 'port-local+tls': { outcome: stalled } });
  assert.ok(!codes(infer(input(active))).includes('alg-blind-under-tls'), codes(infer(input(active))).join(','));
  // The same cell without the connection ever arriving is the ALG's signature.
  const never = matrix({}, { ...s8,
    'port-local+tls': { outcome: { ...stalled, phase: 'accept', dataOpened: undefined } } });
  assert.ok(codes(infer(input(never))).includes('alg-blind-under-tls'), codes(infer(input(never))).join(','));
  // Passive: every TLS cell connected and then stalled.
  const passive = matrix({}, { 'epsv+tls': { outcome: stalled }, 'pasv-reply+tls': { outcome: stalled }, 'pasv-control+tls': { outcome: stalled } });
  assert.ok(!codes(infer(input(passive))).includes('alg-blind-under-tls'), codes(infer(input(passive))).join(','));
});

test('EPRT not understood is not "active refused" when PORT works', () => {
  const m = matrix({}, {
    epsv: { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') },
    'eprt-local': { outcome: reply('EPRT', 500, 'Command "EPRT" not understood.') },
  });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['epsv-unsupported']);
});

test('greeting refused (421 too many connections) and a hint when port 990 answers', () => {
  const steps: StepResult[] = [
    { id: 'tcp', title: '', outcome: OK, summary: '', evidence: [] },
    { id: 'greeting', title: '', outcome: reply('greeting', 421, 'Too many connections from your address.'), summary: '', evidence: [] },
  ];
  const r = infer(input([], { steps }));
  assert.deepEqual(codes(r), ['greeting-refused']);
  assert.match(r.causes[0].title, /421 Too many connections/);
  const blocked: StepResult[] = [
    { id: 'tcp', title: '', outcome: { kind: 'timeout', ms: 5000, connection: 'control' }, summary: '', evidence: [] },
    { id: 'port-990', title: '', outcome: OK, summary: 'port 990 answers: TLS (TLSv1.3) then 220 hi', evidence: [] },
  ];
  const r2 = infer(input([], { steps: blocked, controlAddress: undefined }));
  assert.deepEqual(codes(r2), ['control-port-dropped', 'implicit-on-990']);
});

test('TLS 1.3 resumption refused, TLS 1.2 works: named, and TLS 1.2 recommended', () => {
  const reuse = { outcome: reply('LIST', 522, 'SSL connection failed: session reuse required') };
  const m = matrix({}, Object.fromEntries(['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local'].map(id => [`${id}+tls`, reuse])));
  for (const r of m) if (r.spec.tlsVersion) r.outcome = OK;
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['tls13-resumption']);
  assert.equal(r.recommended?.probeId, 'epsv+tls12');
  assert.equal(r.recommended?.settings.tls?.maxVersion, 'TLSv1.2');
});

test('EPSV swallowed by a middlebox (no reply, cleartext only)', () => {
  const m = matrix({}, { epsv: { outcome: { kind: 'timeout', ms: 5000, connection: 'control', phase: 'command', command: 'EPSV' } } });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['command-unanswered']);
  assert.match(r.causes[0].title, /EPSV never gets an answer.*only in cleartext/);
  assert.equal(r.recommended?.probeId, 'epsv+tls');
});

test('a dual-stack name whose IPv6 address is dead', () => {
  const steps = okSteps();
  steps.push({ id: 'tcp-alt', title: 'the other address 2001:db8::21', outcome: { kind: 'timeout', ms: 5000, connection: 'control', endpoint: '[2001:db8::21]:21' }, summary: '', evidence: [] });
  const r = infer(input(matrix({}, {}), { steps, host: 'ftp.example.com' }));
  assert.deepEqual(codes(r), ['address-family-broken']);
  assert.match(r.causes[0].title, /ftp\.example\.com's IPv6 address 2001:db8::21 does not work/);
});

test('cells that stalled in session setup under load are inconclusive, not evidence', () => {
  const m = matrix({}, {
    epsv: { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') },
    'epsv+tls': { outcome: reply('EPSV', 500, 'Command "EPSV" not understood.') },
    'eprt-local': { outcome: reply('EPRT', 500, 'Command "EPRT" not understood.') },
    'eprt-local+tls': { outcome: reply('EPRT', 500, 'Command "EPRT" not understood.') },
    // pyftpdlib under a burst: one AUTH got no reply in time; others did.
    'port-local+tls': { outcome: { kind: 'timeout', ms: 5000, connection: 'control', phase: 'command', command: 'AUTH' } },
  });
  for (const r of m) if (r.spec.tls && r.spec.id !== 'port-local+tls') r.evidence = [{ atMs: 1, text: 'Command: AUTH TLS' }, { atMs: 2, text: 'Response: 234 AUTH TLS successful.' }];
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['epsv-unsupported']);
});

test('active: a transfer command left unanswered while the server connects back counts as a failed connect-back', () => {
  const stalled: Outcome = { kind: 'timeout', ms: 5000, connection: 'control', phase: 'command', command: 'LIST' };
  const m = matrix({ tls: false, portAddress: '198.18.1.2' }, {
    'eprt-local': { outcome: reply('EPRT', 500, 'Illegal EPRT command.') },
    'port-local': { outcome: reply('PORT', 500, 'Illegal PORT command.') },
    'eprt-public': { outcome: stalled },
    'port-public': { outcome: stalled },
  });
  const r = infer(input(m, { localAddress: '192.168.10.2', portAddress: '198.18.1.2' }));
  assert.deepEqual(codes(r), ['client-nat-port-refused', 'client-nat-no-forward']);
});

test('data from another host than the control connection: PASV with the reply address recommended, trap named', () => {
  const m = matrix({ tls: false }, {
    epsv: { outcome: dataTimeout('198.18.2.2:30001'), advertised: { port: 30001 } },
    'pasv-reply': { advertised: { host: '198.18.2.9', port: 30002 } },
    'pasv-control': { outcome: dataTimeout('198.18.2.2:30003'), advertised: { host: '198.18.2.9', port: 30003 } },
  });
  const r = infer(input(m));
  assert.ok(codes(r).includes('pasv-other-host'), codes(r).join(','));
  assert.equal(r.recommended?.probeId, 'pasv-reply');
  assert.deepEqual(r.recommended?.settings.data?.passive, { command: 'pasv', addressPolicy: 'reply' });
});

test('ALG blind under TLS, but CCC works: named as the remedy, recommended after TLS active', () => {
  const m = matrix({}, {
    'epsv+tls': { outcome: dataTimeout('198.18.2.2:30005') },
    'pasv-reply+tls': { outcome: dataTimeout('10.0.20.2:30003'), advertised: { host: '10.0.20.2', port: 30003 } },
    'pasv-control+tls': { outcome: dataTimeout('198.18.2.2:30004'), advertised: { host: '10.0.20.2', port: 30004 } },
  });
  const specs = planMatrix({ ipv6: false, cleartext: true, tls: true, ccc: true }).filter(s => s.ccc);
  assert.deepEqual(specs.map(s => s.id), ['epsv+ccc', 'pasv-reply+ccc']);
  for (const spec of specs) m.push({ spec, outcome: OK, evidence: [] });
  const r = infer(input(m));
  assert.deepEqual(codes(r), ['alg-blind-under-tls']);
  assert.match(r.causes[0].userFix!, /CCC/);
  assert.equal(r.recommended?.probeId, 'eprt-local+tls');   // fully encrypted beats CCC
  assert.ok(r.works.includes('epsv+ccc'));
  const noActive = infer(input(m.filter(x => x.spec.mode === 'passive')));
  assert.equal(noActive.recommended?.probeId, 'epsv+ccc');
  assert.equal(noActive.recommended?.settings.tls?.clearCommandChannel, true);
});

test('equivalents for CCC and TLS 1.2', () => {
  const e = equivalents({ secure: 'explicit', tls: { clearCommandChannel: true, maxVersion: 'TLSv1.2' }, data: { mode: 'passive', passive: { command: 'epsv' } } },
    { host: 'ftp.example.com', port: 21 });
  assert.match(e.curl, /--ssl-reqd --ftp-ssl-ccc --tls-max 1\.2 /);
  assert.match(e.lftp, /ftp:ssl-use-ccc yes.*VERS-TLS1\.3/);
  assert.match(e.filezilla, /no CCC/);
});

test('blind spot: an advertised address other than the one connected to is named, whatever the address classes', () => {
  // A LAN server with two interfaces: reached at 192.168.1.10, it advertises 10.8.0.1 (both private).
  for (const [control, adv] of [['192.168.1.10', '10.8.0.1'], ['127.0.0.1', '127.0.0.2'], ['198.18.2.2', '203.0.113.9']] as const) {
    const m = matrix({ tls: false }, {
      'pasv-reply': { outcome: dataTimeout(`${adv}:30001`), advertised: { host: adv, port: 30001 } },
      'pasv-control': { advertised: { host: adv, port: 30002 } },
    });
    const r = infer(input(m, { host: control, controlAddress: control, localAddress: control.replace(/\d+$/, '77') }));
    assert.deepEqual(codes(r), ['pasv-address-unusable'], `${control} / ${adv}`);
    assert.match(r.causes[0]!.title, /advertised address differs from the address you connected to/);
    assert.match(r.causes[0]!.title, new RegExp(`${adv.replace(/\./g, '\\.')}.*${control.replace(/\./g, '\\.')}`));
  }
});

test('advice names only cells that worked (NAT + ALG on a non-standard port)', () => {
  // PASV to the reply's private address, to the control host and EPSV all unanswered; only active works.
  const m = matrix({ tls: false }, {
    epsv: { outcome: dataTimeout('198.18.2.2:30000'), advertised: { port: 30000 } },
    'pasv-reply': { outcome: dataTimeout('10.0.20.2:30001'), advertised: { host: '10.0.20.2', port: 30001 } },
    'pasv-control': { outcome: dataTimeout('198.18.2.2:30002'), advertised: { host: '10.0.20.2', port: 30002 } },
  });
  const r = infer(input(m));
  const fixes = r.causes.map(c => c.userFix ?? '').join('\n');
  assert.doesNotMatch(fixes, /use EPSV|control host's address/, fixes);
  // Where EPSV does work, it is named.
  const m2 = matrix({ tls: false }, {
    'pasv-reply': { outcome: dataTimeout('10.0.20.2:30001'), advertised: { host: '10.0.20.2', port: 30001 } },
    'pasv-control': { outcome: dataTimeout('198.18.2.2:30002'), advertised: { host: '10.0.20.2', port: 30002 } },
  });
  const c = infer(input(m2)).causes.find(x => x.code === 'server-private-pasv-address')!;
  assert.equal(c.userFix, 'use EPSV (it works)');
});
