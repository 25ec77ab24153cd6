/**
 * The S3 client of an S3 storage: endpoint, region, credentials and path-style addressing
 * (docs/configuration.md#s3-storage). One client is shared by every root of a configuration, so its
 * connection pool is too.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ConnectionOptions {
  /** e.g. "http://127.0.0.1:7480" for radosgw or MinIO; default: AWS's endpoint for the region. */
  endpoint?: string;
  /** Default "us-east-1" (radosgw and MinIO accept any). */
  region?: string;
  /** Without both keys the SDK's own chain is used (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key`: what radosgw and MinIO need without wildcard DNS. */
  forcePathStyle?: boolean;
}

/**
 * The SDK's warnings on the console, but not its hint for a body of unknown length: an empty upload (a
 * 0-byte STOR) is sent as one PutObject of an empty buffer, which the hint mistakes for a stream.
 */
const SDK_LOGGER = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...args: unknown[]) => { if (!String(args[0]).includes('Stream of unknown length')) console.warn(...args); },
  // A failed command is logged at error level before it is thrown; the caller maps and reports it.
  error: () => undefined,
};

export function createS3Client(options: S3ConnectionOptions): S3Client {
  // The pinned SDK supports Node 20; its start-up warning is about later releases and would be printed on
  // every `ftpkit serve`. An operator who set the variable keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
    ...(options.accessKeyId && options.secretAccessKey
      ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
      : {}),
    // Checksums only where S3 requires them: the newer default (CRC32 trailers on every upload) is not
    // understood by radosgw 16 and other S3-compatible stores; multipart ETags still verify each part.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    logger: SDK_LOGGER,
  });
}
