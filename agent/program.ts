import { Command, Option } from 'commander';
import { DEFAULT_INSTANCES_PATH, DEFAULT_LIBVIRT_URI } from './collect';
import { DEFAULT_POLL_INTERVAL_S, type Flags, UsageError } from './settings';

/** What the command line asked for: the agent loop, or one notification. */
export type Parsed = { kind: 'agent'; flags: Flags } | { kind: 'notify'; eventType: string; flags: Flags };

const output = { writeOut: (t: string) => process.stdout.write(t), writeErr: (t: string) => process.stderr.write(t) };

/** The flags the agent and `notify` share: SNS and the log format. */
const sharedOptions = (cmd: Command): Command =>
  cmd
    .option('--sns-topic-arn <arn>', 'publish lifecycle notifications to this SNS topic (env QM_SNS_TOPIC_ARN)')
    .option('--sns-endpoint <url>', 'SNS endpoint, e.g. a local stack (env QM_SNS_ENDPOINT)')
    .option('--sns-region <region>', "SNS region (env QM_SNS_REGION, AWS_REGION; default the topic's, else us-east-1)")
    .option(
      '--log-format <format>',
      'log lines as text (key=value) or json, one object a line (env QM_LOG_FORMAT, default text)',
    );

/** The `qm-agent` command line; `chosen` receives what it asked for. */
const program = (chosen: (p: Parsed) => void): Command => {
  const root = new Command('qm-agent')
    .description(
      "Reports this host's capacity and usage to Quartermaster (PUT /nodes/{host}); with --sns-topic-arn, " +
        'also publishes compute.instance.create.end / delete.end as libvirt domains appear and vanish.',
    )
    .enablePositionalOptions()
    .option('--api-url <url>', 'Quartermaster API base URL (env QM_API_URL)')
    .option('--token <token>', 'node token for this host (env QM_TOKEN)')
    .option(
      '--token-file <path>',
      'file holding the node token, re-read before every report so it can be replaced without a restart (env QM_TOKEN_FILE)',
    )
    .option('--interval <seconds>', 'seconds between reports (env QM_INTERVAL, default 60)')
    .option(
      '--instances-path <path>',
      `where instance disks live (env QM_INSTANCES_PATH, default ${DEFAULT_INSTANCES_PATH})`,
    )
    .option('--availability-zone <az>', 'availability zone to report (env QM_AVAILABILITY_ZONE)')
    .option('--once', 'send one report and exit: 0 on success (env QM_ONCE=1)')
    .option('--print', 'print the report as JSON and send nothing (env QM_PRINT=1)')
    .option('--host <name>', 'hypervisor_hostname (env QM_HOST, default the hostname)')
    .option(
      '--state-file <path>',
      'where seq survives restarts (env QM_STATE_FILE, default ~/.quartermaster/agent-<host>.json); ' +
        'the outbox and last-seen domains live beside it',
    )
    .option('--libvirt-uri <uri>', `libvirt connection URI (env QM_LIBVIRT_URI, default ${DEFAULT_LIBVIRT_URI})`)
    .addOption(new Option('--virsh-uri <uri>', 'old name of --libvirt-uri (env QM_VIRSH_URI)').hideHelp());
  sharedOptions(root)
    .option(
      '--poll-interval <seconds>',
      `seconds between looks at the domains when libvirt sends no events (env QM_POLL_INTERVAL, default ${DEFAULT_POLL_INTERVAL_S})`,
    )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput(output)
    .action(function (this: Command) {
      chosen({ kind: 'agent', flags: this.opts<Flags>() });
    });
  sharedOptions(
    root
      .command('notify')
      .description(
        'publish one Nova notification (for a libvirt hook, or a Firecracker or container runtime wrapper); ' +
          'exit 0 when sent, 1 when it stays queued in the outbox, 2 on bad usage',
      )
      .argument('<event_type>', 'e.g. compute.instance.create.end or compute.instance.delete.end')
      .option('--instance <uuid>', 'the instance (payload instance_id)')
      .option('--vcpus <n>', 'payload vcpus (create.end needs it)')
      .option('--memory-mb <n>', 'payload memory_mb (create.end needs it)')
      .option('--disk-gb <n>', 'payload disk_gb (create.end needs it)')
      .option('--host <name>', 'publisher compute.<host> (env QM_HOST, default the hostname)')
      .option('--state-file <path>', 'whose outbox keeps the message until SNS takes it (env QM_STATE_FILE)'),
  )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput(output)
    .action(function (this: Command, eventType: string) {
      // Root options given before `notify` count too; its own win.
      const own = Object.fromEntries(Object.entries(this.opts<Flags>()).filter(([, v]) => v !== undefined));
      chosen({ kind: 'notify', eventType, flags: { ...root.opts<Flags>(), ...own } });
    });
  return root;
};

/** Parses `argv` (as process.argv); throws CommanderError (help, unknown flag) or UsageError. */
export const parseArgs = (argv: string[]): Parsed => {
  let parsed: Parsed | undefined;
  program((p) => {
    parsed = p;
  }).parse(argv, { from: 'node' });
  if (!parsed) throw new UsageError('nothing to do');
  return parsed;
};
