import { describe, expect, it } from 'vitest';
import { PENDING_DAYS, PENDING_PREFIX } from '../lib/attachments';
import { FUNCTION_NAMES } from '../lib/config';
import { MANIFEST } from '../lib/manifest';
import { fnResource, fnStatements, logicalId, resources, synth } from './helpers';

const dev = () => synth();

describe('the attachments bucket', () => {
  it('is private, encrypted, TLS only, owner-enforced, and kept in prod', () => {
    const s = dev();
    const id = logicalId(s.stack, s.stack.attachmentsBucket);
    const bucket = s.template.toJSON().Resources[id];
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault)
      .toEqual({ SSEAlgorithm: 'AES256' });
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.DeletionPolicy).toBe('Delete');
    const policy = resources(s.template, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id)![1];
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    const prod = synth({ stage: 'prod' });
    expect(prod.template.toJSON().Resources[logicalId(prod.stack, prod.stack.attachmentsBucket)].DeletionPolicy).toBe('Retain');
  });

  it('expires unsent uploads under pending/ and nothing else', () => {
    const s = dev();
    const bucket = s.template.toJSON().Resources[logicalId(s.stack, s.stack.attachmentsBucket)];
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([{
      Id: 'ExpireUnsentUploads', Prefix: PENDING_PREFIX, Status: 'Enabled', ExpirationInDays: PENDING_DAYS,
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: PENDING_DAYS },
    }]);
  });

  it('lets the configured origins PUT and GET with the signed headers', () => {
    const s = synth({ corsOrigins: 'https://chat.example.com' });
    const bucket = s.template.toJSON().Resources[logicalId(s.stack, s.stack.attachmentsBucket)];
    expect(bucket.Properties.CorsConfiguration.CorsRules).toEqual([expect.objectContaining({
      AllowedOrigins: ['https://chat.example.com'],
      AllowedMethods: ['PUT', 'GET', 'HEAD'],
      AllowedHeaders: ['content-type', 'x-amz-meta-*'],
    })]);
  });
});

describe('least privilege on the bucket', () => {
  /** The bucket statements of a function's role: actions by resource, as text. */
  const s = dev();
  function bucketGrants(name: (typeof FUNCTION_NAMES)[number]): Record<string, string[]> {
    const bucketId = logicalId(s.stack, s.stack.attachmentsBucket);
    const out: Record<string, string[]> = {};
    for (const st of fnStatements(s, name)) {
      const text = JSON.stringify(st.Resource);
      if (!text.includes(bucketId)) continue;
      const where = text.includes('pending/') ? 'pending/*' : text.includes('rooms/') ? 'rooms/*' : 'bucket';
      out[where] = [...(out[where] ?? []), ...[st.Action].flat()].sort();
    }
    return out;
  }

  it('each function gets exactly its groups of deploy/functions.json, per key prefix', () => {
    expect(bucketGrants('chat-rooms')).toEqual({ 'pending/*': ['s3:PutObject'], 'rooms/*': ['s3:GetObject'] });
    expect(bucketGrants('chat-message')).toEqual({
      'pending/*': ['s3:DeleteObject', 's3:GetObject'],
      // Deleting a message deletes its files: DeleteObject under rooms/ too.
      'rooms/*': ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      bucket: ['s3:ListBucket'],
    });
    expect(bucketGrants('chat-history')).toEqual({ 'rooms/*': ['s3:GetObject'] });
    expect(bucketGrants('chat-persist')).toEqual({ 'rooms/*': ['s3:GetObject'] });
    for (const name of ['chat-authorizer', 'chat-connect', 'chat-disconnect', 'chat-users'] as const) {
      expect(bucketGrants(name), name).toEqual({});
    }
  });

  it('the functions with the blobs port, and only they, get the bucket name', () => {
    for (const name of FUNCTION_NAMES) {
      const env = fnResource(s, name).Properties.Environment.Variables;
      const has = MANIFEST.functions[name].ports.includes('blobs');
      expect('CHAT_BUCKET_NAME' in env, name).toBe(has);
      if (has) expect(env.CHAT_BUCKET_NAME).toEqual({ Ref: logicalId(s.stack, s.stack.attachmentsBucket) });
    }
  });
});
