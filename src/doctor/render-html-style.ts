/**
 * The HTML report's stylesheet, inline so the file is self-contained (no CDN, nothing fetched when viewed).
 * Colours: green works, red fails, grey not tried; cells expand (<details>) to their evidence.
 */
export const REPORT_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d232a; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; }
.sub { color: #57606a; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
table.grid td.cell { min-width: 11em; }
td.ok { background: #dafbe1; } td.fail { background: #ffd8d3; } td.skip { background: #eaeef2; color: #57606a; }
td.none { background: #fff; color: #8c959f; }
td.cell summary { cursor: pointer; }
td.cell .state { font-weight: 600; }
pre { margin: .3em 0; padding: .4em .6em; background: #f6f8fa; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
td.cell pre.evidence { max-width: 40em; }
.mark { font-size: 11px; border: 1px solid #9a6700; color: #9a6700; border-radius: 3px; padding: 0 3px; margin-left: 4px; }
ul.causes li { margin-bottom: .6em; }
.timeline { position: relative; border-left: 1px solid #8c959f; }
.tl-row { position: relative; height: 18px; margin: 2px 0; }
.tl-bar { position: absolute; top: 2px; height: 14px; border-radius: 2px; min-width: 2px; }
.tl-bar.ok { background: #2da44e; } .tl-bar.fail { background: #cf222e; } .tl-bar.skip { background: #8c959f; }
.tl-label { position: absolute; left: 0; top: 0; font-size: 11px; white-space: nowrap; padding-left: 4px; }
table.timeline-table td.bars { width: 60%; min-width: 20em; padding: 0; }
`;
