/** The segmented-download comparison's section, rows and connections: shared by measure-pget.ts and the pure render.ts. */
export const PGET_SECTION = 'segmented download';
export const PGET_CLIENTS = ['ftpkit', 'lftp'] as const;
/** Connections of the comparison (issue 16's `pget -n 4`). */
export const PGET_SEGMENTS = 4;
