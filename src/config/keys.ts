/** Profile keys credchain reads, as written in the shared files (one place, snake_case). */
export const KEY = {
  accessKeyId: 'aws_access_key_id',
  secretAccessKey: 'aws_secret_access_key',
  sessionToken: 'aws_session_token',
  /** botocore's older name for the session token, read when `aws_session_token` is absent. */
  legacySessionToken: 'aws_security_token',
  accountId: 'aws_account_id',
  roleArn: 'role_arn',
  sourceProfile: 'source_profile',
  credentialSource: 'credential_source',
  externalId: 'external_id',
  roleSessionName: 'role_session_name',
  durationSeconds: 'duration_seconds',
  mfaSerial: 'mfa_serial',
  webIdentityTokenFile: 'web_identity_token_file',
  credentialProcess: 'credential_process',
  ssoSession: 'sso_session',
  ssoStartUrl: 'sso_start_url',
  ssoRegion: 'sso_region',
  ssoAccountId: 'sso_account_id',
  ssoRoleName: 'sso_role_name',
  /** Set by `aws login`: the console session whose cached credentials the profile uses. */
  loginSession: 'login_session',
  region: 'region',
  endpointUrl: 'endpoint_url',
  services: 'services',
  ec2MetadataServiceEndpoint: 'ec2_metadata_service_endpoint',
  ec2MetadataServiceEndpointMode: 'ec2_metadata_service_endpoint_mode',
  ec2MetadataV1Disabled: 'ec2_metadata_v1_disabled',
} as const;

/** Values `credential_source` accepts (exact spelling, as botocore checks them). */
export const CREDENTIAL_SOURCES = ['Environment', 'Ec2InstanceMetadata', 'EcsContainer'] as const;
export type CredentialSourceName = (typeof CREDENTIAL_SOURCES)[number];
