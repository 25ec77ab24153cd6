/**
 * Public API of `ftpkit/doctor`: `diagnose()` probes a server with many settings and explains what blocks
 * the data connection; `determineSettings()` returns just the settings that work; `renderReport()` turns a
 * Finding into the human report; `infer()` is the pure outcomes -> causes -> recommendation step.
 */
export * from '../errors.js';
export { diagnose, determineSettings, parseDoctorUrl, type DiagnoseOptions, type DoctorTarget } from './diagnose.js';
export { renderReport, type RenderOptions } from './render.js';
export { renderHtml, escapeHtml, type HtmlOptions } from './render-html.js';
export { infer, type Inference, type InferenceInput } from './infer.js';
export { planMatrix, settingsFor } from './plan.js';
export { equivalents } from './equivalents.js';
export { verdictOf, type DoctorVerdict } from './verdict.js';
export { fixesFor, SUGGESTED_PASSIVE_PORTS, type Fixes, type FixBlock, type FixOptions } from './fixes/index.js';
export type * from './types.js';
