import { LOCAL_REGION } from '../../infra/local/model';

/** SDK client settings for a local engine: its endpoint, the local region and throwaway credentials. */
export const localAwsConfig = (endpoint: string) => ({
  endpoint,
  region: LOCAL_REGION,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
