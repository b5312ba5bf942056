import { createHubApp } from './stacks/hub';

// Stage from context: `npx cdk synth -c zwfw:stage=prod` (default in cdk.json: dev).
createHubApp().app.synth();
