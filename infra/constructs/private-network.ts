import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IInterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  type ISecurityGroup,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

/** Where a function of the private cloud runs: isolated subnets, one security group for every function. */
export interface HubNetwork {
  readonly vpc: Vpc;
  readonly functionSubnets: SubnetSelection;
  readonly functionSecurityGroup: ISecurityGroup;
}

/**
 * The AWS services the private cloud's functions call, reached through VPC endpoints because the subnets have no
 * route out: gateway endpoints (free, route-table entries) where AWS offers them, interface endpoints otherwise.
 * X-Ray is here because every function traces actively; execute-api is the private REST API's only way in.
 */
export const GATEWAY_ENDPOINT_SERVICES = ['dynamodb', 's3'] as const;
export const INTERFACE_ENDPOINT_SERVICES = {
  Sqs: InterfaceVpcEndpointAwsService.SQS,
  EventBridge: InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  Kms: InterfaceVpcEndpointAwsService.KMS,
  SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  XRay: InterfaceVpcEndpointAwsService.XRAY,
  ExecuteApi: InterfaceVpcEndpointAwsService.APIGATEWAY,
} as const;

/** The private cloud's address space; a literal so security-group rules (and cdk-nag) can name it. */
export const VPC_CIDR = '10.80.0.0/16';

export interface PrivateNetworkProps {
  config: StageConfig;
}

/**
 * The private cloud's VPC (政务外网 side): isolated subnets only — no internet gateway, no NAT — so nothing in it can
 * reach or be reached from the internet; AWS services through endpoints; flow logs of every rejected and accepted
 * connection. Connected platforms reach the private API through the execute-api endpoint (DESIGN §3), in production
 * over the government extranet's Direct Connect / VPN into this VPC.
 */
export class PrivateNetwork extends Construct implements HubNetwork {
  readonly vpc: Vpc;
  readonly functionSubnets: SubnetSelection = { subnetType: SubnetType.PRIVATE_ISOLATED };
  readonly functionSecurityGroup: SecurityGroup;
  readonly executeApiEndpoint: IInterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const { config } = props;
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(VPC_CIDR),
      maxAzs: config.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      // Interface endpoints answer the services' public names inside the VPC.
      enableDnsHostnames: true,
      enableDnsSupport: true,
      restrictDefaultSecurityGroup: false,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'FlowLogs', {
          retention: config.logRetention,
          removalPolicy: config.removalPolicy,
        }),
      ),
      trafficType: FlowLogTrafficType.ALL,
    });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'zwfw-hub functions: no inbound; outbound only reaches the VPC endpoints (no route out)',
      allowAllOutbound: true,
    });

    for (const name of GATEWAY_ENDPOINT_SERVICES) {
      this.vpc.addGatewayEndpoint(`${name}Endpoint`, { service: new GatewayVpcEndpointAwsService(name) });
    }
    const interfaceEndpoints = Object.entries(INTERFACE_ENDPOINT_SERVICES).map(([name, service]) => {
      const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        privateDnsEnabled: true,
        subnets: this.functionSubnets,
        open: false,
      });
      // HTTPS from the VPC's own addresses (functions, and platforms routed in over the extranet), nothing else.
      endpoint.connections.allowFrom(
        Peer.ipv4(VPC_CIDR),
        Port.tcp(443),
        'HTTPS from inside the private cloud',
      );
      return [name, endpoint] as const;
    });
    this.executeApiEndpoint = Object.fromEntries(interfaceEndpoints).ExecuteApi as IInterfaceVpcEndpoint;
  }
}
