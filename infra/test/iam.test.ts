import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../lib/app';
import { FUNCTION_NAMES, type FunctionName } from '../lib/config';
import { MANIFEST, tableActions } from '../lib/manifest';
import { type Ctx, fnStatements, logicalId, makeApp, resources, synth, TEST_REGION } from './helpers';

const DATA_PLANE = /^(dynamodb|sqs|execute-api):/;

interface Stmt {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

/** Every statement of every identity policy in the template: standalone, managed and inline in roles/users/groups. */
function allStatements(template: ReturnType<typeof synth>['template']): { where: string; stmt: Stmt }[] {
  const out: { where: string; stmt: Stmt }[] = [];
  const push = (where: string, doc: any) => {
    for (const stmt of [doc?.Statement ?? []].flat()) out.push({ where, stmt });
  };
  for (const [id, r] of resources(template, 'AWS::IAM::Policy')) push(id, r.Properties.PolicyDocument);
  for (const [id, r] of resources(template, 'AWS::IAM::ManagedPolicy')) push(id, r.Properties.PolicyDocument);
  for (const type of ['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']) {
    for (const [id, r] of resources(template, type)) {
      for (const p of r.Properties?.Policies ?? []) push(`${id}/${p.PolicyName}`, p.PolicyDocument);
    }
  }
  return out;
}

/** Allow statements granting a data-plane action on resource "*". */
function wildcardDataPlaneGrants(statements: { where: string; stmt: Stmt }[]): string[] {
  return statements
    .filter(({ stmt }) => stmt.Effect === 'Allow')
    .filter(({ stmt }) => list(stmt.Action).some((a) => DATA_PLANE.test(a)))
    .filter(({ stmt }) => list(stmt.Resource).some((r) => r === '*'))
    .map(({ where, stmt }) => `${where}: ${JSON.stringify(stmt.Action)}`);
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

const VARIANTS: [string, Ctx][] = [
  ['dev with Redis', {}],
  ['without Redis', { redis: 'false' }],
  ['prod, cluster, SQS endpoint, alarms', { stage: 'prod', redisMode: 'cluster', sqsEndpoint: 'true', alarmEmail: 'ops@example.com' }],
];

describe.each(VARIANTS)('IAM (%s)', (_, ctx) => {
  const s = synth(ctx);
  const statements = allStatements(s.template);

  it('finds the policies it walks', () => {
    expect(statements.length).toBeGreaterThan(20);
  });

  it('never grants a DynamoDB, SQS or execute-api action on "*"', () => {
    expect(wildcardDataPlaneGrants(statements)).toEqual([]);
  });

  it('never grants a service-wide data-plane action (dynamodb:*, sqs:*, execute-api:*) or dynamodb:Scan', () => {
    const actions = statements.flatMap(({ stmt }) => list(stmt.Action));
    expect(actions.filter((a) => /^(dynamodb|sqs|execute-api):\*$/.test(a) || a === '*')).toEqual([]);
    expect(actions.filter((a) => a.startsWith('dynamodb:Scan'))).toEqual([]);
  });

  it('scopes DynamoDB to the table and GSI1, and SQS to the persist queue', () => {
    const tableId = logicalId(s.stack, s.stack.node.findChild('Data').node.findChild('Table'));
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const indexArn = { 'Fn::Join': ['', [tableArn, '/index/GSI1']] };
    const queueArn = { 'Fn::GetAtt': [logicalId(s.stack, s.stack.queue), 'Arn'] };
    for (const { where, stmt } of statements) {
      const actions = list(stmt.Action);
      if (actions.some((a) => a.startsWith('dynamodb:'))) {
        expect(list(stmt.Resource), where).toHaveLength(2);
        expect(list(stmt.Resource), where).toEqual(expect.arrayContaining([tableArn, indexArn]));
      }
      if (actions.some((a) => a.startsWith('sqs:'))) expect(list(stmt.Resource), where).toEqual([queueArn]);
    }
  });
});

describe('the wildcard check itself', () => {
  it('catches a data-plane grant on "*" slipped into a role', () => {
    const app = makeApp();
    const { stack } = buildApp(app, { region: TEST_REGION });
    stack.functions['chat-users'].role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: ['*'] }),
    );
    const found = wildcardDataPlaneGrants(allStatements(Template.fromStack(stack)));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/UsersRole.*dynamodb:GetItem/);
  });
});

describe('per-function grants', () => {
  const s = synth();
  const actionsOf = (name: FunctionName, prefix: string) =>
    fnStatements(s, name)
      .flatMap((st) => list<string>(st.Action))
      .filter((a) => a.startsWith(prefix))
      .sort();

  it('gives each function exactly its table actions (history only reads; the authorizer none)', () => {
    expect(actionsOf('chat-authorizer', 'dynamodb:')).toEqual([]);
    for (const name of FUNCTION_NAMES) {
      expect(actionsOf(name, 'dynamodb:'), name).toEqual(tableActions(MANIFEST.functions[name]));
    }
    expect(actionsOf('chat-history', 'dynamodb:')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('lets persist write the search index (BatchWriteItem, and GetItem + deletes to remove an entry) and history query it and GSI1 (the caller\'s rooms)', () => {
    const stmts = (name: FunctionName) => fnStatements(s, name).filter((st) => list<string>(st.Action).some((a) => a.startsWith('dynamodb:')));
    const persist = stmts('chat-persist').flatMap((st) => list<string>(st.Action));
    expect(persist).toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem', 'dynamodb:GetItem']));
    const history = stmts('chat-history');
    expect(history.flatMap((st) => list<string>(st.Action))).toContain('dynamodb:Query');
    const resourcesOf = JSON.stringify(history.flatMap((st) => list(st.Resource)));
    expect(resourcesOf).toContain('/index/GSI1');
  });

  it('lets only connect, message and disconnect enqueue, and only persist consume', () => {
    for (const name of FUNCTION_NAMES) {
      const sqs = actionsOf(name, 'sqs:');
      if (['chat-connect', 'chat-message', 'chat-disconnect'].includes(name)) expect(sqs, name).toEqual(['sqs:SendMessage']);
      else if (name === 'chat-persist') expect(sqs, name).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
      else expect(sqs, name).toEqual([]);
    }
    expect(actionsOf('chat-persist', 'sqs:')).not.toContain('sqs:SendMessage');
  });

  it('allows PostToConnection/DeleteConnection only on this API stage\'s @connections, only for pushing functions (rooms pushes roomAdded/roomRemoved)', () => {
    const api = logicalId(s.stack, s.stack.webSocketApi);
    const arn = (method: string) => ({
      'Fn::Join': ['', ['arn:aws:execute-api:eu-west-1:', { Ref: 'AWS::AccountId' }, ':', { Ref: api }, `/dev/${method}/@connections/*`]],
    });
    for (const name of FUNCTION_NAMES) {
      const stmts = fnStatements(s, name).filter((st) => list<string>(st.Action).some((a) => a.startsWith('execute-api:')));
      if (['chat-connect', 'chat-message', 'chat-disconnect', 'chat-persist', 'chat-rooms'].includes(name)) {
        expect(stmts, name).toHaveLength(1);
        expect(stmts[0].Action).toBe('execute-api:ManageConnections');
        expect(stmts[0].Resource).toHaveLength(2);
        expect(stmts[0].Resource).toEqual(expect.arrayContaining([arn('POST'), arn('DELETE')]));
      } else {
        expect(stmts, name).toEqual([]);
      }
    }
  });

  it('lets each function write only to its own log group', () => {
    for (const name of FUNCTION_NAMES) {
      const logStmts = fnStatements(s, name).filter((st) => list<string>(st.Action).some((a) => a.startsWith('logs:')));
      const logGroup = logicalId(s.stack, s.stack.functions[name].logGroup);
      expect(logStmts, name).toEqual([
        expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } }),
      ]);
    }
  });

  it('attaches no AWS managed policy to a function role', () => {
    for (const name of FUNCTION_NAMES) {
      const role = s.template.toJSON().Resources[logicalId(s.stack, s.stack.functions[name].role)];
      expect(role.Properties.ManagedPolicyArns, name).toBeUndefined();
    }
  });
});

describe('the VAPID secret', () => {
  it('is read by the persist function alone, with GetSecretValue on that one secret', () => {
    const t = synth().template;
    const secrets = t.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(1);
    const [secretId] = Object.keys(secrets);
    const policies = t.findResources('AWS::IAM::Policy');
    const readers = Object.entries(policies).filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('secretsmanager:'),
    );
    expect(readers).toHaveLength(1);
    const [, policy] = readers[0];
    expect(JSON.stringify(policy.Properties.Roles)).toContain('Persist');
    const statements = policy.Properties.PolicyDocument.Statement.filter((s: { Action: unknown }) =>
      JSON.stringify(s.Action).includes('secretsmanager:'),
    );
    expect(statements).toEqual([
      { Sid: 'ReadVapidKeys', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } },
    ]);
  });
});
