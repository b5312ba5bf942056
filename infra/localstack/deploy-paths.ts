import { join } from 'node:path';
import { REPO_ROOT } from '../constructs/paths';

/** Pinned: cdklocal 3.x drives the aws-cdk CLI installed here (2.1148.x, the one that reads our assembly). */
export const CDKLOCAL = 'aws-cdk-local@3.0.4';
/** Where `npm run deploy:localstack` writes the stacks' outputs (`cdk deploy --outputs-file` shape). */
export const LOCALSTACK_OUTPUTS_FILE = join(REPO_ROOT, '.hub', 'localstack', 'outputs.json');
