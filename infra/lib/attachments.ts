/**
 * The attachments' bucket. Bytes never pass through a function: clients PUT
 * and GET with URLs the functions presign (chat_adapters::s3), and the
 * functions only read heads and move uploads (deploy/functions.json grants
 * each one exactly that, by key prefix).
 *
 * Keys: `pending/<attachmentId>` for uploads not yet sent in a message, and
 * `rooms/<roomId>/<attachmentId>` once a message claimed one. Unsent uploads
 * expire by the lifecycle rule after PENDING_DAYS (the message function
 * refuses older ones, chat_core::attachments::PENDING_DAYS).
 *
 * Private (all public access blocked), S3-managed encryption, TLS only,
 * objects owned by the bucket owner; CORS lets the web app's origins PUT and
 * GET with the signed headers.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Stage } from './config';

/** Days after which an unsent upload is deleted (chat_core::attachments::PENDING_DAYS). */
export const PENDING_DAYS = 1;
export const PENDING_PREFIX = 'pending/';

export interface AttachmentsProps {
  readonly stage: Stage;
  /** The origins allowed to upload and download from a browser (`corsOrigins`). */
  readonly corsOrigins: string[];
}

export class Attachments extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AttachmentsProps) {
    super(scope, id);
    const prod = props.stage === 'prod';
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      cors: [
        {
          allowedOrigins: props.corsOrigins,
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          // What a presigned upload signs: its type and the slot's metadata.
          allowedHeaders: ['content-type', 'x-amz-meta-*'],
          exposedHeaders: ['etag'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'ExpireUnsentUploads',
          prefix: PENDING_PREFIX,
          expiration: Duration.days(PENDING_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(PENDING_DAYS),
        },
      ],
      // Users' files: kept in prod when the stack goes.
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !prod,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Every object is written and read through URLs the functions presign for members only; the functions log ' +
        'each slot and claim with the user and room (structured logs), which is the audit trail that matters.',
    });
  }
}
