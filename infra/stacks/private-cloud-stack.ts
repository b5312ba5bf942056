import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { AuthVerification } from '../constructs/auth-verification';
import { CaseAggregation } from '../constructs/case-aggregation';
import { EvaluationIngest } from '../constructs/evaluation-ingest';
import { HubRestApi } from '../constructs/hub-rest-api';
import { PlatformCore } from '../constructs/platform-core';

export interface PrivateCloudStackProps extends StackProps {
  config: StageConfig;
}

/**
 * The private cloud (政务外网): every table, queue and function that touches personal data, the hub
 * event bus, and the private REST API the provincial and ministry platforms call.
 */
export class PrivateCloudStack extends Stack {
  readonly platform: PlatformCore;
  readonly api: HubRestApi;
  readonly authVerification: AuthVerification;
  readonly caseAggregation: CaseAggregation;
  readonly evaluationIngest: EvaluationIngest;

  constructor(scope: Construct, id: string, props: PrivateCloudStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.platform = new PlatformCore(this, 'Platform', { config });
    this.api = new HubRestApi(this, 'PrivateApi', {
      config,
      cloud: 'private',
      description: 'zwfw-hub private API for connected provincial and ministry platforms',
    });
    // One issuer: auth verification signs the access tokens, evaluation ingest accepts only these.
    const tokenIssuer = `https://hub.zwfw.local/${config.stage}`;
    // First: it gives the API the client authorizer that every later route is guarded by.
    this.authVerification = new AuthVerification(this, 'AuthVerification', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    this.caseAggregation = new CaseAggregation(this, 'CaseAggregation', {
      platform: this.platform,
      api: this.api,
    });
    this.evaluationIngest = new EvaluationIngest(this, 'EvaluationIngest', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    this.addOutputs();
  }

  /** Same keys the local runtime writes to .hub/outputs.json; tests and tools read either. */
  private addOutputs(): void {
    const cases = this.caseAggregation;
    const auth = this.authVerification;
    const evaluations = this.evaluationIngest;
    const outputs: Record<string, string> = {
      ApiUrl: this.api.url,
      CasesTableName: cases.casesTable.tableName,
      StatsTableName: cases.statsTable.tableName,
      CatalogueTableName: cases.catalogueTable.tableName,
      AssessmentsBucketName: cases.assessmentsBucket.bucketName,
      CaseQueueUrl: cases.ingestQueue.queueUrl,
      CaseDlqUrl: cases.ingestDeadLetterQueue.queueUrl,
      EventBusName: this.platform.eventBus.eventBusName,
      NoncesTableName: this.platform.noncesTable.tableName,
      IdempotencyTableName: this.platform.idempotencyTable.tableName,
      TokensTableName: auth.tokensTable.tableName,
      RegistryTableName: auth.registryTable.tableName,
      EvaluationsTableName: evaluations.evaluationsTable.tableName,
      TicketsTableName: evaluations.ticketsTable.tableName,
      EvaluationQueueUrl: evaluations.evaluationQueue.queueUrl,
      EvaluationDlqUrl: evaluations.evaluationDeadLetterQueue.queueUrl,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }
}
