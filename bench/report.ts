/** The printed table, the markdown for the README, and the SVG chart of throughput and p99 against concurrency. */
import { round } from './stats';
import type { Results, StormRow, SweepPoint, Target } from './results';
import type { MemoryReport } from './memory';
import type { MillionReport } from './million';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function fmt(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return String(round(v, digits));
}

function causes(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length ? e.map(([k, v]) => `${k}×${v}`).join(', ') : '–';
}

const STORM_HEAD = ['run', 'format', 'devices', 'conc', 'boots/s', 'vs floor', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'failed', 'server CPU ms/boot', 'peak RSS MB', 'UDP drops'];

function stormCells(r: StormRow): string[] {
  return [
    r.label,
    r.format,
    String(r.devices),
    String(r.concurrency),
    fmt(r.perSecond, 0),
    vsFloor(r),
    fmt(r.latency.p50Ms),
    fmt(r.latency.p95Ms),
    fmt(r.latency.p99Ms),
    fmt(r.latency.maxMs),
    r.failed ? `${r.failed} (${causes(r.causes)})` : '0',
    r.serverCpuMsPerBoot === undefined ? '–' : fmt(r.serverCpuMsPerBoot, 2),
    r.peakRssBytes === undefined ? '–' : fmt(r.peakRssBytes / 1048576, 0),
    r.udpDrops === undefined ? '–' : String(r.udpDrops),
  ];
}

/** The NAT-like port reuse of the plain-CoAP storms (issue 20) in one sentence. */
function natLine(n: NonNullable<Results['nat']>): string {
  return `NAT-like ports: ${n.devices} devices from a reused pool of ports, ${n.idReuses} POST /bs reused an earlier device's Message ID from the same port within EXCHANGE_LIFETIME; ${n.staleAnswers} stale cached answers (another device's token); ${n.lost} lost bootstraps`;
}

/** The ratio and the floor it uses: "13% of floor (10000 devices), 15492/s". A floor row is its own 100%. */
function vsFloor(r: StormRow): string {
  if (r.ofFloor === undefined) return '–';
  const pct = `${fmt(r.ofFloor * 100, 0)}%`;
  return r.floor ? `${pct} of ${r.floor.label}, ${fmt(r.floor.perSecond, 0)}/s` : pct;
}

/** What the "vs floor" column means, under each table. */
const VS_FLOOR_NOTE =
  '"vs floor": boots/s over the floor storm named in the cell, from the same run with the same format and concurrency. The format storms run in three rounds of floor, library and Node-RED one after the other; each row is the round with the median rate (every round\'s rate in results.json, storms[].rounds) and the ratio divides median by median. The big storm has a floor of its own with the same number of exchanges, run right before it.';

function targetCells(t: Target): string[] {
  return [t.met === undefined ? 'n/a' : t.met ? 'met' : 'NOT met', t.name, t.measured, t.goal];
}

export function textTable(res: Results): string {
  const rows = res.storms.map(stormCells);
  const widths = STORM_HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? pad(c, widths[i]) : lpad(c, widths[i]))).join('  ');
  const out = [line(STORM_HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), VS_FLOOR_NOTE, ''];
  if (res.pending.length) {
    out.push('Pending sessions (heap after GC, per session):');
    for (const p of res.pending) out.push(`  ${p.label}: ${p.sessions} sessions, ${fmt(p.bytesPerSession, 0)} B/session (heap back within ${fmt(p.residualBytes / 1024, 0)} KiB after release)`);
    out.push('');
  }
  if (res.history.length) {
    out.push('History (new devices each storm; heap after GC):');
    for (const h of res.history) out.push(`  storm ${h.storm}: ${fmt(h.perSecond, 0)} boots/s, p99 ${fmt(h.p99Ms)} ms, failed ${h.failed}, heap ${fmt(h.heapAfterBytes / 1048576, 1)} MB${h.idReuses === undefined ? '' : `, ${h.idReuses} Message ID reuses from one port, ${h.staleAnswers ?? 0} stale cached answers`}`);
    out.push('');
  }
  if (res.memory) out.push(...memoryLines(res.memory));
  if (res.million) out.push(...millionLines(res.million));
  if (res.nat) out.push(natLine(res.nat), '');
  if (res.dtls) out.push(`DTLS: ${res.dtls.note}`, '');
  out.push('Targets:');
  for (const t of res.targets) out.push(`  ${targetCells(t).join(' | ')}`);
  if (res.profile) {
    out.push('', `CPU profile of the Node-RED server during storms (${res.profile.sampledMs} ms sampled), largest self time:`);
    for (const f of res.profile.top.slice(0, 12)) out.push(`  ${lpad(fmt(f.share * 100, 1), 5)}%  ${f.name}  ${f.where}`);
    out.push('  by area:');
    for (const a of res.profile.byArea.slice(0, 10)) out.push(`  ${lpad(fmt(a.share * 100, 1), 5)}%  ${a.area}`);
  }
  const lp = res.libraryProfile;
  if (lp) {
    out.push('', `CPU profile of the library server during a storm (${lp.sampledMs} ms sampled), largest self time:`);
    for (const f of lp.top.slice(0, 12)) out.push(`  ${lpad(fmt(f.share * 100, 1), 5)}%  ${f.name}  ${f.where}`);
    out.push('  by area:');
    for (const a of lp.byArea.slice(0, 10)) out.push(`  ${lpad(fmt(a.share * 100, 1), 5)}%  ${a.area}`);
  }
  const dp = res.dtls?.profile as Results['profile'];
  if (dp) {
    out.push('', `CPU profile of the library server over DTLS (${dp.sampledMs} ms sampled), largest self time:`);
    for (const f of dp.top.slice(0, 8)) out.push(`  ${lpad(fmt(f.share * 100, 1), 5)}%  ${f.name}  ${f.where}`);
    out.push('  by area:');
    for (const a of dp.byArea.slice(0, 8)) out.push(`  ${lpad(fmt(a.share * 100, 1), 5)}%  ${a.area}`);
  }
  return out.join('\n');
}

export function markdown(res: Results): string {
  const m = res.machine;
  const out = [
    `### Benchmark (\`npm run bench\`, ${res.startedAt.slice(0, 10)})`,
    '',
    ...(typeof res.options.command === 'string' ? [`Command: \`${res.options.command}\``, ''] : []),
    `${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.platform}. Server and load generator are separate processes on the same ${m.cpus} cores (they compete; the floor and the library-only runs pay the same price). Plain CoAP on 127.0.0.1, new devices in every storm (how many: the devices column), warm runtime. ${clientNote(res)}${res.dtls ? ' The DTLS rows: DTLS 1.2 PSK with TLS_PSK_WITH_AES_128_CCM_8 to 127.0.0.1, each device from a loopback address of its own, each row a server process of its own.' : ''}`,
    '',
    `| ${STORM_HEAD.join(' | ')} |`,
    `|${STORM_HEAD.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...res.storms.map((r) => `| ${stormCells(r).join(' | ')} |`),
    '',
    VS_FLOOR_NOTE,
    '',
  ];
  if (res.pending.length) {
    out.push('| pending sessions | sessions | heap per session | left after release |', '| --- | ---: | ---: | ---: |');
    for (const p of res.pending) out.push(`| ${p.label} | ${p.sessions} | ${fmt(p.bytesPerSession, 0)} B | ${fmt(p.residualBytes / 1024, 0)} KiB |`);
    out.push('');
  }
  if (res.history.length) {
    out.push('| history storm | boots/s | p99 ms | failed | heap after GC |', '| ---: | ---: | ---: | ---: | ---: |');
    for (const h of res.history) out.push(`| ${h.storm} | ${fmt(h.perSecond, 0)} | ${fmt(h.p99Ms)} | ${h.failed} | ${fmt(h.heapAfterBytes / 1048576, 1)} MB |`);
    out.push('');
  }
  if (res.memory) out.push(...memoryLines(res.memory));
  if (res.million) out.push(...millionLines(res.million));
  if (res.nat) {
    out.push(natLine(res.nat) + '.', '');
  }
  if (res.dtls) out.push(`DTLS: ${res.dtls.note}`, '');
  out.push('| target | | measured | goal |', '| --- | --- | --- | --- |');
  for (const t of res.targets) {
    const [met, name, measured, goal] = targetCells(t);
    out.push(`| ${name} | ${met} | ${measured} | ${goal} |`);
  }
  out.push('', '![throughput and p99 latency against concurrency](bench/results/latest.svg)', '');
  return out.join('\n');
}

const COLORS: Record<string, string> = { floor: '#888888', library: '#1f77b4', 'node-red': '#d62728' };

/** Two panels side by side: bootstraps/s and p99 latency, against concurrency on a log axis. */
export function svgChart(sweep: SweepPoint[], title: string): string {
  const W = 860;
  const H = 360;
  const panelW = 380;
  const panelH = 250;
  const top = 50;
  const lefts = [60, 470];
  const concs = [...new Set(sweep.map((p) => p.concurrency))].sort((a, b) => a - b);
  const series = [...new Set(sweep.map((p) => p.series))];
  const lx = (c: number): number => {
    const a = Math.log10(concs[0]);
    const b = Math.log10(concs[concs.length - 1]);
    return b === a ? panelW / 2 : ((Math.log10(c) - a) / (b - a)) * panelW;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  const panels: { key: 'perSecond' | 'p99Ms'; label: string }[] = [
    { key: 'perSecond', label: 'bootstraps per second (log)' },
    { key: 'p99Ms', label: 'p99 latency, ms (log)' },
  ];
  panels.forEach((panel, pi) => {
    const x0 = lefts[pi];
    const vals = sweep.map((p) => p[panel.key]).filter((v) => Number.isFinite(v) && v > 0);
    const log = true; // the floor runs an order of magnitude above the servers
    const maxV = Math.max(...vals, 1);
    const minV = log ? Math.max(0.1, Math.min(...vals)) : 0;
    const niceMax = log ? 10 ** Math.ceil(Math.log10(maxV)) : niceCeil(maxV);
    const niceMin = log ? 10 ** Math.floor(Math.log10(minV)) : 0;
    const ly = (v: number): number =>
      log
        ? panelH - ((Math.log10(Math.max(v, niceMin)) - Math.log10(niceMin)) / (Math.log10(niceMax) - Math.log10(niceMin))) * panelH
        : panelH - (v / niceMax) * panelH;
    parts.push(`<g transform="translate(${x0},${top})">`);
    parts.push(`<rect width="${panelW}" height="${panelH}" fill="none" stroke="#cccccc"/>`);
    const ticks = log ? logTicks(niceMin, niceMax) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * niceMax);
    for (const t of ticks) {
      const y = ly(t);
      parts.push(`<line x1="0" x2="${panelW}" y1="${y}" y2="${y}" stroke="#eeeeee"/>`);
      parts.push(`<text x="-6" y="${y + 4}" text-anchor="end">${t >= 1000 ? `${round(t / 1000, 1)}k` : round(t, 1)}</text>`);
    }
    for (const c of concs) {
      const x = lx(c);
      parts.push(`<line x1="${x}" x2="${x}" y1="${panelH}" y2="${panelH + 4}" stroke="#999999"/>`);
      parts.push(`<text x="${x}" y="${panelH + 16}" text-anchor="middle">${c}</text>`);
    }
    parts.push(`<text x="${panelW / 2}" y="${panelH + 32}" text-anchor="middle">concurrent devices (log)</text>`);
    parts.push(`<text x="${panelW / 2}" y="-8" text-anchor="middle" font-size="12">${esc(panel.label)}</text>`);
    for (const s of series) {
      const pts = sweep.filter((p) => p.series === s && Number.isFinite(p[panel.key])).sort((a, b) => a.concurrency - b.concurrency);
      if (!pts.length) continue;
      const color = COLORS[s] ?? '#2ca02c';
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${round(lx(p.concurrency))},${round(ly(p[panel.key]))}`).join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${round(lx(p.concurrency))}" cy="${round(ly(p[panel.key]))}" r="3" fill="${color}"/>`);
    }
    parts.push('</g>');
  });
  series.forEach((s, i) => {
    const x = 60 + i * 150;
    parts.push(`<rect x="${x}" y="${H - 22}" width="14" height="4" fill="${COLORS[s] ?? '#2ca02c'}"/>`);
    parts.push(`<text x="${x + 20}" y="${H - 17}">${esc(s === 'floor' ? 'floor (raw UDP)' : s === 'library' ? 'library alone' : 'Node-RED flow')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let v = min; v <= max * 1.0001; v *= 10) out.push(v);
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The RSS rows of the memory part (issue 17). */
export function memoryLines(m: MemoryReport): string[] {
  const out = [
    `Memory of the Node-RED process (bench flow), a fresh process per setting with a device table of its storms' ${m.tableRows ?? '?'} devices: RSS at start, idle (after 300 devices and 5 s quiet), peak during a storm of ${m.devices} new devices, and ${m.waitS} s after it. Budget: peak < ${m.budget.peakMB} MB, ${m.waitS} s after within ${fmt(m.budget.afterOverIdle * 100, 0)}% of idle.`,
    '',
    '| setting | node flags | environment | start MB | idle MB | peak MB | after MB | after vs idle | heap after MB | boots/s | failed |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of m.rows) {
    const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ') || '-';
    out.push(
      `| ${r.setting} | ${r.execArgv.join(' ') || '-'} | ${env} | ${fmt(r.startRssMB, 0)} | ${fmt(r.idleRssMB, 0)} | ${fmt(r.peakRssMB, 0)} | ${fmt(r.afterRssMB, 0)} | ${r.afterOverIdle >= 0 ? '+' : ''}${fmt(r.afterOverIdle * 100, 0)}% | ${fmt(r.heapAfterMB, 0)} | ${fmt(r.perSecond, 0)} | ${r.failed} |`,
    );
  }
  out.push('');
  return out;
}

/** The rows of the million-row device table part (issue 17). */
export function millionLines(m: MillionReport): string[] {
  const out = [
    `Device table of ${m.rows.toLocaleString('en')} rows. ${m.notes.join(' ')}`,
    '',
    '| source | file MB | load s | heap MB | RSS MB | by endpoint p50 / p99 µs | by identity p50 / p99 µs | reload s | lookups during reload | failed | longest lookup ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of m.results) {
    const rl = r.reload;
    out.push(
      `| ${r.source} | ${r.fileMB === undefined ? '-' : fmt(r.fileMB, 0)} | ${fmt(r.loadS, 1)} | ${fmt(r.heapMB, 0)} | ${fmt(r.rssMB, 0)} | ${fmt(r.endpoint.p50, 1)} / ${fmt(r.endpoint.p99, 1)} | ${fmt(r.identity.p50, 1)} / ${fmt(r.identity.p99, 1)} | ${rl ? fmt(rl.seconds, 1) : '-'} | ${rl ? rl.lookups : '-'} | ${rl ? rl.failed : '-'} | ${rl ? fmt(rl.maxLookupMs, 1) : '-'} |`,
    );
  }
  out.push('');
  return out;
}

/** Which load generator drove the plain-CoAP rows (the row's `client`). */
function clientNote(res: Results): string {
  const c = res.storms.filter((r) => r.client === 'c').length;
  const js = res.storms.filter((r) => r.client !== 'c' && r.format !== '–' && !/DTLS/.test(r.label)).length;
  if (c === 0) return 'Plain-CoAP storms: the JavaScript device of bench/device.ts (it decodes and checks every write).';
  return (
    'The floor, format, sweep and audit-cost storms are driven by one C client, bench/c/coap-loadgen.c (microseconds of CPU per datagram, so floor and server storms ' +
    'pay the same small load-generator price and their ratio measures the server)' +
    (js ? '; the history, big and memory storms by the JavaScript device of bench/device.ts, which decodes and checks every write (the big storm has a floor of the same client).' : '.')
  );
}
