/**
 * Events of FtpClient. The "Command:/Response:" transcript users know from FileZilla is a subscriber to
 * 'transcript'; progress bars subscribe to 'progress'. Library code never prints.
 */
export interface TranscriptEvent {
  /** 'command': sent by us (PASS masked); 'response': received; 'status': a decision we made and why. */
  kind: 'command' | 'response' | 'status';
  text: string;
  /** Which connection it concerns ('data' for data-connection decisions). */
  connection: 'control' | 'data';
  time: Date;
}

export interface ProgressEvent {
  direction: 'download' | 'upload' | 'list';
  /** Remote path. */
  path: string;
  /** Bytes transferred so far in this transfer (not counting a resumed offset). */
  bytes: number;
  /** Offset the transfer started at (REST), 0 otherwise. */
  startOffset: number;
  /** Total size of the file when known (including the offset). */
  total?: number;
  /** Bytes per second, smoothed. */
  bytesPerSecond: number;
  /** Seconds left when total is known. */
  etaSeconds?: number;
  done: boolean;
}

export interface FtpClientEvents {
  transcript: [TranscriptEvent];
  progress: [ProgressEvent];
}
