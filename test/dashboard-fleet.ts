import { nodeToken } from '../core/auth';

/**
 * A small fleet for the dashboard's browser test and its screenshots: twelve hosts in two zones of their
 * own (`<prefix>-az1`, `<prefix>-az2`), loads from idle to full, one disabled, one with drift, metadata
 * that looks like markup; a placed three-instance decision in az2 and a NoValidHost decision in az1 whose
 * hosts each fail a different filter (other hosts in a shared stack fail AvailabilityZoneFilter).
 */
export interface SeededFleet {
  hosts: string[];
  /** The host whose metadata holds markup (it must render as text). */
  markupHost: string;
  disabledHost: string;
  driftHost: string;
  /** Rejected by RamFilter in the NoValidHost decision. */
  ramHost: string;
  placedDecision: string;
  noValidHostDecision: string;
}

export const MARKUP = '<img src=x onerror="document.title=1">';

type Over = Record<string, unknown>;

export const seedFleet = async (
  baseUrl: string,
  operatorToken: string,
  secret: string,
  prefix: string,
): Promise<SeededFleet> => {
  const call = async (method: string, path: string, body: unknown, token = operatorToken) => {
    const r = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };
  const az1 = `${prefix}-az1`;
  const az2 = `${prefix}-az2`;
  // [name, zone, figures]: GiB and GB as a person sizes hosts; the figures say what each host lacks.
  const spec: Array<[string, string, Over]> = [
    ['rack1-01', az1, { memory_mb: 65_536, memory_mb_used: 61_440, vcpus_used: 20 }],
    ['rack1-02', az1, { local_gb: 1000, local_gb_used: 900, disk_available_least: 100 }],
    ['rack1-03', az1, { vcpus: 4, vcpus_used: 2 }],
    ['rack1-04', az1, { current_workload: 9, vcpus_used: 6, memory_mb_used: 12_288 }],
    ['rack2-01', az1, { memory_mb: 32_768, memory_mb_used: 30_000 }],
    ['rack2-02', az1, { memory_mb: 131_072, memory_mb_used: 40_000, local_gb: 2000, local_gb_used: 1900 }],
    ['rack3-01', az2, { vcpus_used: 2, memory_mb_used: 4096 }],
    ['rack3-02', az2, { vcpus_used: 24, memory_mb_used: 98_304, memory_mb: 131_072, local_gb_used: 600 }],
    ['rack3-03', az2, { vcpus_used: 8, memory_mb_used: 16_384 }],
    ['rack3-04', az2, { vcpus_used: 30, memory_mb_used: 50_000, local_gb_used: 400 }],
    ['rack4-01', az2, { vcpus: 64, memory_mb: 262_144, memory_mb_used: 65_536, vcpus_used: 16, local_gb: 4000 }],
    ['rack4-02', az2, { vcpus_used: 12, memory_mb_used: 24_576 }],
  ];
  const hosts = spec.map(([n]) => `${prefix}-${n}`);
  const driftHost = `${prefix}-rack3-03`;
  for (const [name, zone, over] of spec) {
    const host = `${prefix}-${name}`;
    const report = {
      hypervisor_hostname: host,
      hypervisor_type: 'QEMU',
      hypervisor_version: 8_002_000,
      cpu_info: {
        arch: 'x86_64',
        vendor: 'Intel',
        model: 'Xeon Gold 6230',
        features: ['avx', 'avx2'],
        topology: { sockets: 2, cores: 8, threads: 2 },
      },
      vcpus: 32,
      memory_mb: 65_536,
      local_gb: 1000,
      vcpus_used: 0,
      memory_mb_used: 2048,
      local_gb_used: 40,
      disk_available_least: 900,
      running_vms: 0,
      current_workload: 0,
      // An instance no scheduler placed and no notification announced: drift (unknown_instance).
      instances:
        host === driftHost
          ? [{ uuid: '6f1c2a7e-0b7d-4c55-9a51-1f0e3b9d2c44', vcpus: 2, memory_mb: 4096, disk_gb: 40 }]
          : [],
      availability_zone: zone,
      seq: 1,
      reported_at: new Date().toISOString(),
      ...over,
    };
    const r = await call('PUT', `/nodes/${host}`, report, nodeToken(secret, host, { nowMs: Date.now() }));
    if (r.status !== 200) throw new Error(`seeding ${host}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const markupHost = `${prefix}-rack1-04`;
  const disabledHost = `${prefix}-rack2-02`;
  const patches: Array<[string, Over]> = [
    [markupHost, { metadata: { rack: 'r1', owner: MARKUP } }],
    [disabledHost, { disabled: true, disabled_reason: 'firmware upgrade <b>until Friday</b>' }],
    [`${prefix}-rack4-01`, { metadata: { rack: 'r4', gpu: 'none', tier: 'large' } }],
  ];
  for (const [host, body] of patches) {
    const r = await call('PATCH', `/nodes/${host}`, body);
    if (r.status !== 200) throw new Error(`patching ${host}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const flavor = (vcpus: number, memory_mb: number, root_gb: number, name: string) => ({
    name,
    vcpus,
    memory_mb,
    root_gb,
  });
  const placed = await call('POST', '/schedule', {
    request_spec: {
      instance_type: flavor(4, 8192, 80, 'm1.large'),
      instance_properties: { availability_zone: az2 },
      num_instances: 3,
    },
  });
  if (placed.status !== 200) throw new Error(`placing: ${placed.status} ${JSON.stringify(placed.body)}`);
  const nvh = await call('POST', '/schedule', {
    request_spec: {
      instance_type: flavor(16, 49_152, 300, 'm1.huge'),
      instance_properties: { availability_zone: az1 },
    },
  });
  if (nvh.status !== 409) throw new Error(`expected NoValidHost: ${nvh.status} ${JSON.stringify(nvh.body)}`);
  return {
    hosts,
    markupHost,
    disabledHost,
    driftHost,
    ramHost: `${prefix}-rack1-01`,
    placedDecision: String(placed.body.decision_id),
    noValidHostDecision: String(nvh.body.error.details.decision_id),
  };
};
