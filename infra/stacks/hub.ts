import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStageConfig, type StageConfig } from '../config';
import { PrivateCloudStack } from './private-cloud-stack';
import { PublicCloudStack } from './public-cloud-stack';

export interface HubApp {
  app: App;
  config: StageConfig;
  privateCloud: PrivateCloudStack;
  publicCloud: PublicCloudStack;
}

/**
 * The whole CDK app for the stage in context, with cdk-nag AwsSolutions as a validation plugin: any
 * unacknowledged finding fails the synth. `infra/app.ts` and the infra tests both build it here.
 */
export function createHubApp(props?: AppProps): HubApp {
  const app = new App(props);
  const config = readStageConfig(app.node);
  const stacks = buildHub(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, ...stacks };
}

/** Both clouds of one stage. Production passes two accounts; dev and LocalStack use one. */
export function buildHub(app: App, config: StageConfig): Pick<HubApp, 'privateCloud' | 'publicCloud'> {
  Tags.of(app).add('project', 'zwfw-hub');
  Tags.of(app).add('stage', config.stage);
  const privateCloud = new PrivateCloudStack(app, config.privateStackName, {
    stackName: config.privateStackName,
    description: `zwfw-hub ${config.stage}: private cloud (government extranet, personal data)`,
    env: { account: config.account, region: config.region },
    terminationProtection: config.deletionProtection,
    config,
  });
  const publicCloud = new PublicCloudStack(app, config.publicStackName, {
    stackName: config.publicStackName,
    description: `zwfw-hub ${config.stage}: public cloud (internet-facing, no personal data at rest)`,
    env: { account: config.publicAccount ?? config.account, region: config.region },
    terminationProtection: config.deletionProtection,
    config,
  });
  // The forwarding rule targets the private bus, which must exist first.
  publicCloud.addStackDependency(privateCloud, 'forwards allow-listed events to the private bus');
  return { privateCloud, publicCloud };
}
