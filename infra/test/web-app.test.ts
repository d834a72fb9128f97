/**
 * The hosted web app (lib/web-app.ts): a private bucket only CloudFront reads
 * (origin access control), HTTPS only, security headers and a CSP naming
 * exactly the stack's endpoints, the app's files and a config.json with the
 * stack's values, the app client's OAuth settings, the output and the off
 * switch.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config';
import { contentSecurityPolicy, SDK_DIR, SDK_PREFIX, WEB_DIR } from '../lib/web-app';
import { logicalId, resources, synth, TEST_REGION, type Synth } from './helpers';

/** A template value as text: literals kept, references as ${Ref:Id} / ${Id.Attr}. */
function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Record<string, any>;
  if ('Ref' in o) return `\${Ref:${o.Ref}}`;
  if ('Fn::GetAtt' in o) return `\${${o['Fn::GetAtt'].join('.')}}`;
  if ('Fn::Sub' in o) return o['Fn::Sub'];
  if ('Fn::Join' in o) return (o['Fn::Join'][1] as unknown[]).map(flat).join(o['Fn::Join'][0]);
  throw new Error(`cannot flatten ${JSON.stringify(v)}`);
}

/** The one resource of a type the web app has (the attachments bucket, tested in attachments.test.ts, aside). */
function only(s: Synth, type: string): [string, any] {
  const rs = resources(s.template, type).filter(([lid]) => !lid.startsWith('Attachments'));
  expect(rs, type).toHaveLength(1);
  return rs[0];
}

/** The bucket deployment of the app's files, or (`sdk`) of the SDK's. */
function deployment(s: Synth, sdk = false): [string, any] {
  const rs = resources(s.template, 'Custom::CDKBucketDeployment').filter(
    ([, r]) => (r.Properties.DestinationBucketKeyPrefix === SDK_PREFIX) === sdk,
  );
  expect(rs, sdk ? 'the SDK deployment' : 'the files deployment').toHaveLength(1);
  return rs[0];
}

const dev = () => synth();
const id = (s: Synth, type: string) => only(s, type)[0];

describe('the web app bucket', () => {
  it('is private, encrypted, owner-enforced, and emptied with the stack only in dev', () => {
    const s = dev();
    const [, bucket] = only(s, 'AWS::S3::Bucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.Properties.WebsiteConfiguration).toBeUndefined();
    expect(bucket.DeletionPolicy).toBe('Delete');

    const [, prodBucket] = only(synth({ stage: 'prod' }), 'AWS::S3::Bucket');
    expect(prodBucket.DeletionPolicy).toBe('Retain');
    expect(resources(synth({ stage: 'prod' }).template, 'Custom::S3AutoDeleteObjects')).toEqual([]);
  });

  it('lets only this distribution read objects, over TLS only, and nobody list or write', () => {
    const s = dev();
    const bucketId = id(s, 'AWS::S3::Bucket');
    const distId = id(s, 'AWS::CloudFront::Distribution');
    const [, policy] = only(s, 'AWS::S3::BucketPolicy');
    const statements: any[] = policy.Properties.PolicyDocument.Statement;

    const deny = statements.filter((st) => st.Effect === 'Deny');
    expect(deny).toEqual([
      expect.objectContaining({ Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);

    const allow = statements.filter((st) => st.Effect === 'Allow');
    const cloudfront = allow.filter((st) => st.Principal.Service === 'cloudfront.amazonaws.com');
    expect(cloudfront).toHaveLength(1);
    expect(cloudfront[0].Action).toBe('s3:GetObject');
    expect(flat(cloudfront[0].Resource)).toBe(`\${${bucketId}.Arn}/*`);
    expect(flat(cloudfront[0].Condition.StringEquals['AWS:SourceArn'])).toBe(
      `arn:\${Ref:AWS::Partition}:cloudfront::\${Ref:AWS::AccountId}:distribution/\${Ref:${distId}}`,
    );
    // The only other reader is dev's auto-delete on stack deletion; never a public principal.
    for (const st of allow.filter((x) => x !== cloudfront[0])) {
      expect(flat(st.Principal.AWS)).toMatch(/^\$\{CustomS3AutoDeleteObjectsCustomResourceProviderRole[0-9A-F]+\.Arn\}$/);
    }
    expect(JSON.stringify(allow)).not.toMatch(/"AWS":"\*"|"Principal":"\*"/);
  });
});

describe('the distribution', () => {
  it('reads the bucket through origin access control (SigV4, always signed), no legacy OAI', () => {
    const s = dev();
    const [oacId, oac] = only(s, 'AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4',
    });
    resources(s.template, 'AWS::CloudFront::CloudFrontOriginAccessIdentity').forEach(() => {
      throw new Error('a legacy origin access identity');
    });
    const [, dist] = only(s, 'AWS::CloudFront::Distribution');
    const origins = dist.Properties.DistributionConfig.Origins;
    expect(origins).toHaveLength(1);
    expect(origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(flat(origins[0].DomainName)).toBe(`\${${id(s, 'AWS::S3::Bucket')}.RegionalDomainName}`);
  });

  it('serves HTTPS only (HTTP redirects), GET and HEAD, index.html at the root, with the headers policy', () => {
    const s = dev();
    const [, dist] = only(s, 'AWS::CloudFront::Distribution');
    const c = dist.Properties.DistributionConfig;
    expect(c.DefaultRootObject).toBe('index.html');
    expect(c.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD'],
      ResponseHeadersPolicyId: { Ref: id(s, 'AWS::CloudFront::ResponseHeadersPolicy') },
    });
    // No per-room URLs in the app: a missing file is an error, never index.html.
    expect(c.CustomErrorResponses).toBeUndefined();
    expect(c.CacheBehaviors).toBeUndefined();
  });

  it('sends HSTS, nosniff, frame DENY and no referrer, overriding the origin', () => {
    const [, policy] = only(dev(), 'AWS::CloudFront::ResponseHeadersPolicy');
    const h = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(h.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Override: true });
    expect(h.ContentTypeOptions).toEqual({ Override: true });
    expect(h.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(h.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(h.ContentSecurityPolicy.Override).toBe(true);
  });

  it('has a CSP that lets the app talk to exactly the WebSocket stage, the HTTP API and the hosted UI', () => {
    const s = dev();
    const [, policy] = only(s, 'AWS::CloudFront::ResponseHeadersPolicy');
    const csp = flat(policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    const directives = Object.fromEntries(
      csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
    );
    const apis = resources(s.template, 'AWS::ApiGatewayV2::Api');
    const ws = apis.find(([, r]) => r.Properties.ProtocolType === 'WEBSOCKET')![0];
    const http = apis.find(([, r]) => r.Properties.ProtocolType === 'HTTP')![0];
    const domain = id(s, 'AWS::Cognito::UserPoolDomain');
    expect(directives['connect-src']).toEqual([
      "'self'",
      `wss://\${Ref:${ws}}.execute-api.${TEST_REGION}.\${Ref:AWS::URLSuffix}/dev`,
      `https://\${Ref:${http}}.execute-api.${TEST_REGION}.\${Ref:AWS::URLSuffix}/`,
      `https://\${Ref:${domain}}.auth.${TEST_REGION}.amazoncognito.com`,
      `https://\${${logicalId(s.stack, s.stack.attachmentsBucket)}.RegionalDomainName}`,
    ]);
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['style-src']).toEqual(["'self'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['form-action']).toEqual(["'self'"]);
    expect(directives['base-uri']).toEqual(["'none'"]);
    // Nothing inline, nothing evaluated, no wildcard host anywhere.
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\s\*(\s|;|$)/);
  });

  it('the CSP helper lists the endpoints it is given and nothing else', () => {
    const csp = contentSecurityPolicy({
      webSocketUrl: 'wss://w/x', restUrl: 'https://r/', authDomainUrl: 'https://a', attachmentsUrl: 'https://b',
    });
    expect(csp).toContain("connect-src 'self' wss://w/x https://r/ https://a https://b;");
    expect(csp.match(/(wss|https):\/\/[^\s;]+/g)).toEqual(['wss://w/x', 'https://r/', 'https://a', 'https://b']);
  });
});

describe('the files and their runtime configuration', () => {
  /** config.json as deployed: the asset's text with its deploy-time markers replaced by what they stand for. */
  function deployedConfig(s: Synth): Record<string, any> {
    const [, dep] = deployment(s);
    const keys: string[] = dep.Properties.SourceObjectKeys;
    const markers: Record<string, unknown>[] = dep.Properties.SourceMarkers;
    const i = markers.findIndex((m) => Object.keys(m).length > 0);
    const dir = path.join(s.app.outdir, `asset.${keys[i].replace(/\.zip$/, '')}`);
    let text = readFileSync(path.join(dir, 'config.json'), 'utf8');
    for (const [marker, value] of Object.entries(markers[i])) text = text.split(marker).join(flat(value));
    expect(dep.Properties.SourceMarkersConfig[i]).toEqual({ jsonEscape: true });
    return JSON.parse(text);
  }

  it('deploys local/web and config.json into the bucket, no-cache, pruning old files', () => {
    const s = dev();
    const [, dep] = deployment(s);
    expect(dep.Properties.DestinationBucketName).toEqual({ Ref: id(s, 'AWS::S3::Bucket') });
    expect(dep.Properties.Prune).toBe(true);
    expect(dep.Properties.Exclude).toEqual(['sdk/*']);
    expect(dep.Properties.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(dep.Properties.SourceObjectKeys).toHaveLength(2);
    const web = dep.Properties.SourceMarkers.findIndex((m: object) => Object.keys(m).length === 0);
    const dir = path.join(s.app.outdir, `asset.${dep.Properties.SourceObjectKeys[web].replace(/\.zip$/, '')}`);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(readdirSync(WEB_DIR).sort());
    for (const f of ['index.html', 'app.js', 'app.css', 'auth.js', 'config.js']) expect(files).toContain(f);
  });

  it('deploys the SDK\'s compiled ESM under sdk/, where app.js imports it, without its type declarations', () => {
    const s = dev();
    const [, dep] = deployment(s, true);
    expect(dep.Properties.DestinationBucketName).toEqual({ Ref: id(s, 'AWS::S3::Bucket') });
    expect(dep.Properties.DestinationBucketKeyPrefix).toBe('sdk/');
    expect(dep.Properties.Prune).toBe(true);
    expect(dep.Properties.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(dep.Properties.SourceObjectKeys).toHaveLength(1);
    const dir = path.join(s.app.outdir, `asset.${dep.Properties.SourceObjectKeys[0].replace(/\.zip$/, '')}`);
    const list = (d: string, base = ''): string[] =>
      readdirSync(path.join(d, base), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? list(d, path.join(base, e.name)) : [path.join(base, e.name)],
      );
    const shipped = list(dir).sort();
    expect(shipped).toEqual(list(SDK_DIR).filter((f) => !f.endsWith('.d.ts')).sort());
    expect(shipped).toContain('index.js');
    expect(readFileSync(path.join(WEB_DIR, 'app.js'), 'utf8')).toContain('./sdk/index.js');
  });

  it('writes the stack\'s endpoints and app client into config.json, resolved at deploy time', () => {
    const s = dev();
    const cfg = deployedConfig(s);
    const apis = resources(s.template, 'AWS::ApiGatewayV2::Api');
    const ws = apis.find(([, r]) => r.Properties.ProtocolType === 'WEBSOCKET')![0];
    const http = apis.find(([, r]) => r.Properties.ProtocolType === 'HTTP')![0];
    const dist = id(s, 'AWS::CloudFront::Distribution');
    expect(cfg).toEqual({
      region: '${Ref:AWS::Region}',
      wsUrl: `wss://\${Ref:${ws}}.execute-api.${TEST_REGION}.\${Ref:AWS::URLSuffix}/dev`,
      restUrl: `https://\${Ref:${http}}.execute-api.${TEST_REGION}.\${Ref:AWS::URLSuffix}/`,
      auth: {
        domain: `https://\${Ref:${id(s, 'AWS::Cognito::UserPoolDomain')}}.auth.${TEST_REGION}.amazoncognito.com`,
        clientId: `\${Ref:${id(s, 'AWS::Cognito::UserPoolClient')}}`,
        redirectUri: `https://\${${dist}.DomainName}/`,
        logoutUri: `https://\${${dist}.DomainName}/`,
        scopes: ['openid', 'email', 'profile'],
      },
    });
  });

  it('writes the config.json the app reads (the keys local/web/config.js checks)', () => {
    const src = readFileSync(path.join(WEB_DIR, 'config.js'), 'utf8');
    for (const key of ['wsUrl', 'restUrl', 'auth.domain', 'auth.clientId', 'auth.redirectUri', 'auth.logoutUri', 'auth.scopes']) {
      expect(src, key).toContain(`'${key}'`);
    }
  });

  it('outputs WebAppUrl, the distribution\'s https URL', () => {
    const s = dev();
    const out = s.template.toJSON().Outputs.WebAppUrl;
    expect(flat(out.Value)).toBe(`https://\${${id(s, 'AWS::CloudFront::Distribution')}.DomainName}/`);
  });
});

describe('sign-in through the user pool', () => {
  it('the app client allows the code grant with the web app URL as callback and logout URL, no secret', () => {
    const s = dev();
    const [, client] = only(s, 'AWS::Cognito::UserPoolClient');
    const p = client.Properties;
    const url = `https://\${${id(s, 'AWS::CloudFront::Distribution')}.DomainName}/`;
    expect(p.AllowedOAuthFlows).toEqual(['code']);
    expect(p.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect([...p.AllowedOAuthScopes].sort()).toEqual(['email', 'openid', 'profile']);
    expect(p.CallbackURLs.map(flat)).toEqual([url]);
    expect(p.LogoutURLs.map(flat)).toEqual([url]);
    expect(p.GenerateSecret).toBe(false);
    expect(p.EnableTokenRevocation).toBe(true);
    expect(p.SupportedIdentityProviders).toEqual(['COGNITO']);
  });

  it('gets a hosted UI domain per account and stage unless a prefix is given, and keeps given URLs after its own', () => {
    const [, domain] = only(dev(), 'AWS::Cognito::UserPoolDomain');
    expect(flat(domain.Properties.Domain)).toBe('chat-dev-${Ref:AWS::AccountId}');
    const s = synth({
      hostedUiDomainPrefix: 'chat-example-dev',
      oauthCallbackUrls: 'http://localhost:5173/',
      oauthLogoutUrls: 'http://localhost:5173/',
    });
    expect(only(s, 'AWS::Cognito::UserPoolDomain')[1].Properties.Domain).toBe('chat-example-dev');
    const url = `https://\${${id(s, 'AWS::CloudFront::Distribution')}.DomainName}/`;
    const p = only(s, 'AWS::Cognito::UserPoolClient')[1].Properties;
    expect(p.CallbackURLs.map(flat)).toEqual([url, 'http://localhost:5173/']);
    expect(p.LogoutURLs.map(flat)).toEqual([url, 'http://localhost:5173/']);
  });
});

describe('least privilege', () => {
  it('the deployment handler may read the asset bucket and write the web app bucket, nothing else', () => {
    const s = dev();
    const bucketId = id(s, 'AWS::S3::Bucket');
    const policies = resources(s.template, 'AWS::IAM::Policy').filter(([pid]) => pid.startsWith('CustomCDKBucketDeployment'));
    expect(policies).toHaveLength(1);
    const statements: any[] = policies[0][1].Properties.PolicyDocument.Statement;
    const asset = `arn:aws:s3:::cdk-hnb659fds-assets-\${AWS::AccountId}-${TEST_REGION}`;
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      const targets = [st.Resource].flat().map(flat).sort();
      const actions: string[] = [st.Action].flat();
      expect(actions.every((a) => a.startsWith('s3:')), JSON.stringify(actions)).toBe(true);
      if (targets.some((t) => t.startsWith(asset))) {
        expect(targets).toEqual([asset, `${asset}/*`]);
        expect(actions.sort()).toEqual(['s3:GetBucket*', 's3:GetObject*', 's3:List*']);
      } else {
        expect(targets).toEqual([`\${${bucketId}.Arn}`, `\${${bucketId}.Arn}/*`]);
        expect(actions).not.toContain('s3:PutBucketPolicy');
        expect(actions).not.toContain('s3:*');
      }
    }
    expect(statements).toHaveLength(2);
  });

  it('no role gets CloudFront or bucket-policy rights from the web app', () => {
    const s = dev();
    const text = JSON.stringify(resources(s.template, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument));
    expect(text).not.toMatch(/cloudfront:/);
    expect(text).not.toMatch(/s3:PutBucketPolicy|s3:PutBucketAcl/);
  });
});

describe('the off switch', () => {
  it('webApp=false: no bucket, no distribution, no deployment, no output, no OAuth', () => {
    const s = synth({ webApp: 'false' });
    for (const type of [
      'AWS::S3::Bucket', 'AWS::CloudFront::Distribution', 'AWS::CloudFront::OriginAccessControl',
      'AWS::CloudFront::ResponseHeadersPolicy', 'Custom::CDKBucketDeployment', 'AWS::Cognito::UserPoolDomain',
    ]) {
      // The attachments bucket stays (attachments.test.ts).
      expect(resources(s.template, type).filter(([lid]) => !lid.startsWith('Attachments')), type).toEqual([]);
    }
    expect(s.template.toJSON().Outputs.WebAppUrl).toBeUndefined();
    expect(s.stack.webApp).toBeUndefined();
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlowsUserPoolClient: false });
  });

  it('is off by default with an external issuer, and refused on with one', () => {
    const parse = (ctx: Record<string, unknown>) => parseConfig((k) => ctx[k]);
    const external = { jwtIssuer: 'https://issuer.example.com', jwtAudience: 'web' };
    expect(parse({}).webApp).toBe(true);
    expect(parse({ webApp: 'false' }).webApp).toBe(false);
    expect(parse(external).webApp).toBe(false);
    expect(() => parse({ ...external, webApp: 'true' })).toThrow(/"webApp": the web app signs in through the user pool/);
    expect(() => parse({ webApp: 'yes' })).toThrow(/"webApp": expected true or false/);
    expect(resources(synth(external).template, 'AWS::CloudFront::Distribution')).toEqual([]);
  });
});
