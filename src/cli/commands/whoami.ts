import { explain } from '../../explain.js';
import { StsClient } from '../../sts/client.js';
import { EXIT, type Command } from '../context.js';

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'call STS GetCallerIdentity with the resolved credentials and say who you are',
  usage: `credchain whoami

Resolves credentials, calls STS GetCallerIdentity with them, and prints the account, the ARN,
the user id, and the provider that produced the credentials. The STS endpoint follows
--region, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL as the AWS SDKs do.`,
  async run(ctx) {
    const provider = ctx.provider();
    // Resolve first: "nothing found" and a real failure (a broken named profile) are reported apart
    // by the CLI's error handler. explain() then reads the cached resolution; no second one.
    await provider();
    const explanation = await explain(provider);
    const region = await ctx.region();
    const sts = new StsClient({
      credentials: provider,
      env: ctx.env,
      ...(region !== undefined ? { region } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
    });
    const identity = await sts.getCallerIdentity();
    ctx.stdout.write(
      [
        `Account:  ${identity.account}`,
        `ARN:      ${identity.arn}`,
        `UserId:   ${identity.userId}`,
        `Provider: ${explanation.winner} (access key ${explanation.accessKeyId})`,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
