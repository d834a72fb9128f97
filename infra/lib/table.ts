/**
 * The single DynamoDB table. Key design (the Rust adapter's contract):
 *
 * | item                    | PK                  | SK                          | GSI1PK          | GSI1SK                    |
 * |-------------------------|---------------------|-----------------------------|-----------------|---------------------------|
 * | room meta               | ROOM#{roomId}       | META                        | CHANNELS (*)    | {createdAt}#{roomId} (*)  |
 * | room sequence counter   | ROOM#{roomId}       | SEQ                         |                 |                           |
 * | membership              | ROOM#{roomId}       | MEMBER#{userId}             | USER#{userId}   | ROOM#{roomId}             |
 * | idempotency reservation | ROOM#{roomId}       | CMID#{userId}#{clientMsgId} |                 |                           |
 * | message                 | MSGS#{roomId}       | {seq, zero-padded to 20}    |                 |                           |
 * | connection              | CONN#{connectionId} | META                        | USER#{userId}   | CONN#{connectionId}       |
 * | profile                 | USER#{userId}       | PROFILE                     |                 |                           |
 *
 * (*) public channels only. Reservations and connections carry `expiresAt`
 * (epoch seconds), the table's TTL attribute.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { ChatConfig } from './config';

export const GSI1 = 'GSI1';
export const TTL_ATTRIBUTE = 'expiresAt';

export class ChatTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, config: ChatConfig) {
    super(scope, id);
    const prod = config.stage === 'prod';
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // A prod table outlives the stack and refuses deletion by accident;
      // a dev table goes away with `cdk destroy`.
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1,
      partitionKey: { name: 'GSI1PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'GSI1SK', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
