/**
 * `ftpkit/server/s3`: the S3 storage for embedding (docs/server.md#s3-compatible-storage). A subpath of its
 * own so that `ftpkit/server` does not load the AWS SDK for applications that do not use S3.
 */
export { S3Storage, type S3StorageOptions } from './s3-storage.js';
export { createS3Client, type S3ConnectionOptions } from './client.js';
export { isS3Root, parseS3Root, type S3Location } from './keys.js';
