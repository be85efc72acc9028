import { terminalSafe } from '../../errors.js';
import { explain } from '../../explain.js';
import { EXIT, expectNoArgs, type Command } from '../context.js';

export const explainCommand: Command = {
  name: 'explain',
  summary: 'show every link of the chain, which one won and why the others were skipped (masked)',
  usage: `credchain explain

Resolves credentials and prints each provider tried, in order, with why it was skipped
or failed. The access key id is masked to its last 4 characters; no secret is printed.
Exit code 0 when a provider resolved, 1 when none did.`,
  async run(ctx, args) {
    expectNoArgs(args);
    const explanation = await explain(ctx.provider());
    // Reasons quote files, variables and servers: no control character reaches the terminal.
    ctx.stdout.write(`${terminalSafe(String(explanation))}\n`);
    return explanation.winner ? EXIT.ok : EXIT.noCredentials;
  },
};
