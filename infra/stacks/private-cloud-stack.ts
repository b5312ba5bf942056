import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { AuthVerification } from '../constructs/auth-verification';
import { CaseAggregation } from '../constructs/case-aggregation';
import { EvaluationIngest } from '../constructs/evaluation-ingest';
import { HubRestApi } from '../constructs/hub-rest-api';
import { LicenceRetrieval } from '../constructs/licence-retrieval';
import { PlatformCore } from '../constructs/platform-core';
import { SnapshotPublisher } from '../constructs/snapshot-publication';

export interface PrivateCloudStackProps extends StackProps {
  config: StageConfig;
}

/**
 * The private cloud (政务外网): every table, queue and function that touches personal data, in a VPC without
 * internet egress; the hub event bus; and the PRIVATE REST API the provincial and ministry platforms call
 * through its VPC endpoint.
 */
export class PrivateCloudStack extends Stack {
  private readonly zoneCount: number;
  readonly platform: PlatformCore;
  readonly api: HubRestApi;
  readonly authVerification: AuthVerification;
  readonly caseAggregation: CaseAggregation;
  readonly evaluationIngest: EvaluationIngest;
  readonly licenceRetrieval: LicenceRetrieval;
  readonly snapshotPublisher: SnapshotPublisher;

  constructor(scope: Construct, id: string, props: PrivateCloudStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.zoneCount = config.availabilityZones;
    this.platform = new PlatformCore(this, 'Platform', { config });
    this.api = new HubRestApi(this, 'PrivateApi', {
      config,
      cloud: 'private',
      vpcEndpoint: this.platform.network.executeApiEndpoint,
      alarmTopic: this.platform.alarmTopic,
      description: 'zwfw-hub private API for connected provincial and ministry platforms',
    });
    // One issuer: auth verification signs the access tokens, evaluation ingest accepts only these.
    const { tokenIssuer } = config;
    // First: it gives the API the client authorizer that every later route is guarded by.
    this.authVerification = new AuthVerification(this, 'AuthVerification', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    this.caseAggregation = new CaseAggregation(this, 'CaseAggregation', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    this.evaluationIngest = new EvaluationIngest(this, 'EvaluationIngest', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    this.licenceRetrieval = new LicenceRetrieval(this, 'LicenceRetrieval', {
      platform: this.platform,
      api: this.api,
      tokenIssuer,
    });
    // Private → public: only judged, non-personal assessment snapshots leave, copied by this one publisher.
    this.snapshotPublisher = new SnapshotPublisher(this, 'SnapshotPublisher', {
      platform: this.platform,
      assessmentsBucket: this.caseAggregation.assessmentsBucket,
      assessmentsKey: this.caseAggregation.key,
    });
    this.addOutputs();
  }

  /**
   * The zones the VPC spreads over, as `Fn::GetAZs` of the deploying region. A stack with an account and region
   * would otherwise look its zones up at synth time, which needs AWS credentials: synth stays offline.
   */
  override get availabilityZones(): string[] {
    return Array.from({ length: this.zoneCount }, (_, index) => Fn.select(index, Fn.getAzs()));
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
      LicencesTableName: this.licenceRetrieval.licencesTable.tableName,
      LicenceFilesBucketName: this.licenceRetrieval.filesBucket.bucketName,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }
}
