import { terminalSafe } from '../../errors.js';
import { explain } from '../../explain.js';
import { StsClient } from '../../sts/client.js';
import { EXIT, expectNoArgs, type Command } from '../context.js';

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'call STS GetCallerIdentity with the resolved credentials and say who you are',
  usage: `credchain whoami

Resolves credentials, calls STS GetCallerIdentity with them, and prints the account, the ARN,
the user id, and the provider that produced the credentials. The STS endpoint follows
--region, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL as the AWS SDKs do.`,
  async run(ctx, args) {
    expectNoArgs(args);
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
    // The fields come from the STS server: one line each, no control character reaches the terminal.
    const field = (value: string) => terminalSafe(value, { singleLine: true });
    ctx.stdout.write(
      [
        `Account:  ${field(identity.account)}`,
        `ARN:      ${field(identity.arn)}`,
        `UserId:   ${field(identity.userId)}`,
        `Provider: ${explanation.winner} (access key ${explanation.accessKeyId})`,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
