/**
 * Helpers for acknowledging cdk-nag findings precisely.
 *
 * IAM5 reports one finding per wildcard resource, named after the resource as
 * cdk-nag renders it (`Ref` → `<Id>`, `Fn::GetAtt` → `<Id.Attr>`, joins
 * flattened). Acknowledging that exact finding, rather than the whole rule,
 * keeps any *new* wildcard on the same role a failing finding.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Ref' in o) return `<${String(o.Ref)}>`;
    if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag finding`);
}

/** Acknowledges the IAM5 finding for one wildcard resource ARN on `scope`. */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  const rendered = render(Stack.of(scope).resolve(arn));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}

/** Acknowledges the IAM4 finding for one AWS managed policy on `scope`. */
export function acknowledgeManagedPolicy(scope: IConstruct, policyName: string, reason: string): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policyName}]`,
    reason,
  });
}
