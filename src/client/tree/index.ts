/** Tree operations of the client: recursive download/upload and mirror (one-way sync). */
export { mirror, downloadTree, uploadTree } from './mirror.js';
export { planMirror, allActions, type MirrorPlan, type PlanOptions } from './plan.js';
export { unsafeNameReason, localPathFor, UnsafePathError } from './safe-name.js';
export type { CompareMode, TreeClient, TreeNode, TreeAction, ActionKind, TreeEvent, MirrorOptions, MirrorResult } from './types.js';
