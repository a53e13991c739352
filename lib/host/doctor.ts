// The host diagnosis behind `sandbox doctor`: one finding per thing the sandbox depends on, each with a
// verdict, a plain sentence on what it means for the user, and what to do. Pure over a HostReader; the
// CLI (lib/cli/doctor-command.ts) only formats it.
import type { HostReader, ProbeAnswers } from './reader';
import { cgroupLayout, type CgroupHost } from '../cgroup/host';
import { planCgroup } from '../cgroup/plan';
import type { LimitsSpec } from '../plan/spec';
import { SandboxError } from '../errors';

/** ok: works; warn: sandboxes run, but something is missing or weaker; fail: sandboxes can't run. */
export type Verdict = 'ok' | 'warn' | 'fail';

export type FactValue = string | number | boolean | null | string[];

export interface Finding {
  id: string;
  title: string;
  verdict: Verdict;
  /** One line: what was found and what it means. */
  summary: string;
  /** What to do about it; absent when nothing needs doing. */
  fix?: string;
  /** The raw values the verdict was drawn from, for scripts. */
  facts: Record<string, FactValue>;
}

export interface DoctorReport {
  /** No finding failed: `sandbox run` can start sandboxes for this user. */
  canRun: boolean;
  uid: number;
  gid: number;
  user: string | null;
  findings: Finding[];
}

/** Linux versions that brought what the stage and the monitor use. */
const KERNEL_NEEDS = { open_tree: [5, 2], clone3: [5, 3], openat2: [5, 6], clone_into_cgroup: [5, 7], mount_setattr: [5, 12], landlock: [5, 13] } as const;
const STAGE_MINIMUM: [number, number] = [5, 12];

function kernelVersion(release: string | null): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function atLeast(v: [number, number], need: readonly [number, number]): boolean {
  return v[0] > need[0] || (v[0] === need[0] && v[1] >= need[1]);
}

function sysctl(host: HostReader, file: string): number | null {
  const t = host.readFile(file);
  if (t === null) return null;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : null;
}

function userName(host: HostReader): string | null {
  for (const line of (host.readFile('/etc/passwd') ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && Number(f[2]) === host.uid) return f[0];
  }
  return null;
}

function callerFinding(host: HostReader, name: string | null): Finding | null {
  if (host.uid !== 0) return null;
  return {
    id: 'caller', title: 'who is asking', verdict: 'warn',
    summary: 'you ran doctor as root: root may do what an ordinary user may not, so these answers may not hold for the user who will run sandboxes',
    fix: 'run `sandbox doctor` as that user',
    facts: { uid: host.uid, user: name },
  };
}

function stageFinding(host: HostReader): Finding {
  const built = host.executable(host.stagePath);
  return {
    id: 'stage', title: 'C stage', verdict: built ? 'ok' : 'fail',
    summary: built ? `the C stage is built (${host.stagePath})` : `the C stage ${host.stagePath} is missing: nothing can be started`,
    fix: built ? undefined : 'run `npm install` in the checkout (it needs a C compiler)',
    facts: { path: host.stagePath, built },
  };
}

function kernelFinding(release: string | null): Finding {
  const v = kernelVersion(release);
  const facts = { release, minimum: STAGE_MINIMUM.join('.') };
  if (!v) return { id: 'kernel', title: 'kernel', verdict: 'warn', summary: 'could not read the kernel version (/proc/sys/kernel/osrelease)', facts };
  if (!atLeast(v, STAGE_MINIMUM)) {
    return { id: 'kernel', title: 'kernel', verdict: 'fail', summary: `Linux ${release}: too old, the stage needs Linux ${STAGE_MINIMUM.join('.')} or later (mount_setattr)`, fix: 'upgrade the kernel', facts };
  }
  return { id: 'kernel', title: 'kernel', verdict: 'ok', summary: `Linux ${release}: new enough (the stage needs ${STAGE_MINIMUM.join('.')})`, facts };
}

/** An AppArmor profile that lets the stage (and only it) create user namespaces with capabilities inside. */
export function appArmorProfile(stagePath: string): string {
  return [
    'abi <abi/4.0>,',
    'include <tunables/global>',
    `profile sandbox-stage ${stagePath} flags=(unconfined) {`,
    '  userns,',
    '}',
  ].join('\n');
}

function usernsFinding(host: HostReader, probe: ProbeAnswers | null): Finding {
  const maxNs = sysctl(host, '/proc/sys/user/max_user_namespaces');
  const debianClone = sysctl(host, '/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = sysctl(host, '/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const facts: Record<string, FactValue> = {
    max_user_namespaces: maxNs, unprivileged_userns_clone: debianClone, apparmor_restrict_unprivileged_userns: apparmor,
    probe: null, create: null, mount: null,
  };
  // The test that decides: make one and mount in it, as this user.
  let created: boolean | null = null;
  let mounted: boolean | null = null;
  let detail = '';
  if (probe && probe.userns !== undefined) {
    facts.probe = 'sandbox-probe';
    created = probe.userns === 'ok';
    mounted = created ? probe.userns_mount === 'ok' : false;
    detail = created ? (mounted ? '' : `mount inside it: ${probe.userns_mount}`) : `creating it: ${probe.userns}`;
  } else {
    const u = host.unshareProbe();
    if (u) {
      facts.probe = 'unshare -Ur true';
      created = u.ok;
      detail = u.ok ? '' : `unshare -Ur: ${u.detail}`;
    }
  }
  facts.create = created;
  facts.mount = mounted;
  const title = 'user namespaces';
  const aaRestricted = apparmor !== null && apparmor !== 0;
  const aaFix = `either allow them to the stage alone: as root, write this to /etc/apparmor.d/sandbox-stage and run \`apparmor_parser -r /etc/apparmor.d/sandbox-stage\`:\n${appArmorProfile(host.stagePath)}\n` +
    'or lift the restriction for every program: `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (and a file in /etc/sysctl.d/ to keep it)';

  if (created && mounted !== false) {
    const note = aaRestricted ? ' (Ubuntu\'s AppArmor restriction is on, but something lets you through: a profile, or you are root)' : '';
    const how = mounted ? 'create user namespaces and mount inside them' : 'create user namespaces';
    return { id: 'userns', title, verdict: 'ok', summary: `you can ${how}: sandboxes can start${note}`, facts };
  }
  if (created === null) {
    // Not tested: judge from the switches alone.
    if (maxNs === 0 || debianClone === 0) {
      return { id: 'userns', title, verdict: 'fail', summary: 'user namespaces are switched off for ordinary users: sandboxes can\'t start', fix: maxNs === 0 ? 'as root: `sysctl -w user.max_user_namespaces=15000`' : 'as root: `sysctl -w kernel.unprivileged_userns_clone=1`', facts };
    }
    return { id: 'userns', title, verdict: 'warn', summary: `not tested (neither sandbox-probe nor unshare is here); the switches allow them${aaRestricted ? ', but Ubuntu\'s AppArmor restriction is on' : ''}`, fix: 'run `npm install` (builds native/build/sandbox-probe) or install util-linux', facts };
  }
  let summary: string;
  let fix: string;
  if (maxNs === 0) {
    summary = 'user namespaces are switched off (user.max_user_namespaces is 0): sandboxes can\'t start';
    fix = 'as root: `sysctl -w user.max_user_namespaces=15000`, and a file in /etc/sysctl.d/ to keep it after a reboot';
  } else if (debianClone === 0) {
    summary = 'this kernel lets only root create user namespaces (kernel.unprivileged_userns_clone is 0): sandboxes can\'t start';
    fix = 'as root: `sysctl -w kernel.unprivileged_userns_clone=1`, and a file in /etc/sysctl.d/ to keep it after a reboot';
  } else if (aaRestricted && created) {
    // The probe is its own binary, so the stage's profile doesn't cover it: look for that profile instead.
    const loaded = (host.readFile('/sys/kernel/security/apparmor/profiles') ?? '').split('\n').some((l) => l.startsWith('sandbox-stage '));
    const file = host.readFile('/etc/apparmor.d/sandbox-stage');
    facts.apparmor_profile_loaded = loaded;
    if (loaded && (file === null || file.includes(host.stagePath))) {
      return { id: 'userns', title, verdict: 'ok', summary: 'Ubuntu\'s AppArmor restriction is on, and the profile sandbox-stage is loaded to let the stage through: sandboxes can start (the probe, a separate program, is still refused, as it should be)', facts };
    }
    if (loaded && file !== null) {
      summary = `Ubuntu's AppArmor restriction is on, and the profile in /etc/apparmor.d/sandbox-stage names another path than this stage (${host.stagePath}): sandboxes can't start`;
      fix = aaFix;
      facts.detail = detail || null;
      return { id: 'userns', title, verdict: 'fail', summary, fix, facts };
    }
    summary = 'Ubuntu\'s AppArmor restriction is on: a program without an AppArmor profile that allows it gets a user namespace without privileges in it, so the stage can\'t mount and sandboxes can\'t start';
    fix = aaFix;
  } else {
    summary = `creating a user namespace failed (${detail}): sandboxes can't start`;
    fix = 'if this is a container, its runtime or seccomp policy forbids unshare(CLONE_NEWUSER): run sandbox on the host, or allow user namespaces in the container; check also that the user is not out of namespaces (user.max_user_namespaces)';
  }
  facts.detail = detail || null;
  return { id: 'userns', title, verdict: 'fail', summary, fix, facts };
}

/** What doctor asks of the cgroup model: the limits `sandbox run --memory 1 --cpus 1 --pids 1` would set, strictly. */
const EVERY_LIMIT: LimitsSpec = {
  memory: { value: 1 << 20, origin: '--memory 1M', from: 'option' },
  cpus: { value: 1, origin: '--cpus 1', from: 'option' },
  pids: { value: 1, origin: '--pids 1', from: 'option' },
};

/**
 * Doctor's verdict is the run's own decision (lib/cgroup: readCgroupHost then planCgroup) on the same facts,
 * so the two can't disagree; the layout only adds advice.
 */
function cgroupFinding(cg: CgroupHost, mountinfo: string): Finding {
  const { layout, v1Controllers } = cgroupLayout(mountinfo);
  const facts: Record<string, FactValue> = {
    layout, v2_mount: cg.mount, v1_controllers: v1Controllers, root_controllers: cg.rootControllers, own_cgroup: cg.cgroupPath,
    own_dir: cg.own?.path ?? null, controllers: cg.own?.controllers ?? [], own_writable: !!cg.own && cg.own.canWriteProcs && cg.own.canWriteSubtreeControl,
    systemd_user_manager: cg.systemd.available, own_unit: cg.ownUnit?.unit ?? null, via: null, base: null,
  };
  const title = 'cgroup v2';
  const noLimits = 'resource limits can\'t be applied: `--limits strict` refuses to start, `--limits best-effort` runs without them';
  const unify = 'boot with every controller on cgroup v2: kernel parameter `systemd.unified_cgroup_hierarchy=1` (on systemd) or `cgroup_no_v1=all`';
  if (layout === 'none') return { id: 'cgroup', title, verdict: 'warn', summary: `no cgroup hierarchy is mounted: ${noLimits}`, fix: 'mount cgroup2 at /sys/fs/cgroup', facts };
  if (layout === 'legacy') return { id: 'cgroup', title, verdict: 'warn', summary: `only cgroup v1 is mounted: ${noLimits}`, fix: unify, facts };
  try {
    const d = planCgroup(EVERY_LIMIT, 'PID-ID', cg);
    facts.via = d.setup?.via ?? null;
    facts.base = d.setup?.base ?? null;
    const where = d.setup?.via === 'systemd-scope'
      ? `each sandbox gets a transient scope with Delegate=yes from the systemd user manager (${cg.systemd.reason})`
      : `each sandbox gets a cgroup under ${d.setup?.base}, which is delegated to you`;
    return { id: 'cgroup', title, verdict: 'ok', summary: `${where}: memory, cpu and pids limits work`, facts };
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    // The run's own words, less its advice on options (doctor gives its own below).
    const why = e.message.replace(/; (run under a systemd user session|ask your admin to delegate).*$/, '');
    const hybrid = layout === 'hybrid' ? ` (hybrid layout: the controllers ${v1Controllers.join(', ') || '-'} are on cgroup v1)` : '';
    const own = cg.own;
    const lacksControllers = !!own && own.canWriteProcs && own.canWriteSubtreeControl && / lacks the /.test(why);
    const fix = layout === 'hybrid' && v1Controllers.length ? unify
      : lacksControllers ? 'have the controllers delegated to you: with systemd, `systemctl edit user@.service` and add `[Service]` `Delegate=memory pids cpu io`, then log in again'
        : 'run sandbox under a systemd user session (limits then come from a transient scope), from a delegated cgroup, e.g. `systemd-run --user --scope -p Delegate=yes sandbox run ...`, or have root give you a subtree (chown the directory, its cgroup.procs and cgroup.subtree_control)';
    return { id: 'cgroup', title, verdict: 'warn', summary: `${why}${hybrid}: ${noLimits}`, fix, facts };
  }
}

function seccompFinding(host: HostReader): Finding {
  const status = host.readFile('/proc/self/status') ?? '';
  const mode = /^Seccomp:\s*(\d+)/m.exec(status);
  const filters = /^Seccomp_filters:\s*(\d+)/m.exec(status);
  const actions = (host.readFile('/proc/sys/kernel/seccomp/actions_avail') ?? '').split(/\s+/).filter(Boolean);
  const facts: Record<string, FactValue> = { mode: mode ? Number(mode[1]) : null, filters: filters ? Number(filters[1]) : null, actions };
  const title = 'seccomp';
  if (!mode) return { id: 'seccomp', title, verdict: 'warn', summary: 'this kernel has no seccomp: profiles with a system call policy refuse to start', fix: 'use a kernel built with CONFIG_SECCOMP_FILTER', facts };
  const needed = ['errno', 'kill_process', 'allow'];
  const lacking = actions.length ? needed.filter((a) => !actions.includes(a)) : [];
  if (lacking.length) return { id: 'seccomp', title, verdict: 'warn', summary: `seccomp filters lack the actions ${lacking.join(', ')}: system call policies may not load`, fix: 'use a newer kernel (4.14 or later)', facts };
  const stacked = Number(mode[1]) === 2 ? ` (you already run under ${filters ? filters[1] : 'some'} seccomp filter(s); the sandbox's is added on top, and the stricter answer wins)` : '';
  return { id: 'seccomp', title, verdict: 'ok', summary: `seccomp filters work: system call policies apply${stacked}`, facts };
}

function landlockFinding(host: HostReader, probe: ProbeAnswers | null, kv: [number, number] | null): Finding {
  const lsm = host.readFile('/sys/kernel/security/lsm');
  const facts: Record<string, FactValue> = { abi: null, answer: null, lsm: lsm ? lsm.trim().split(',') : null };
  const title = 'Landlock';
  const answer = probe ? probe.landlock_abi : undefined;
  if (answer !== undefined) {
    facts.answer = answer;
    const abi = Number(answer);
    if (Number.isInteger(abi) && abi > 0) {
      facts.abi = abi;
      if (abi >= 6) return { id: 'landlock', title, verdict: 'ok', summary: `Landlock ABI ${abi}: filesystem rules, and the scopes that keep the sandbox away from the host's abstract unix sockets and processes`, facts };
      return { id: 'landlock', title, verdict: 'warn', summary: `Landlock ABI ${abi}: filesystem rules work, but not the scopes (ABI 6): with --share-net the host's abstract unix sockets stay reachable, and signals are stopped only by the pid namespace`, fix: 'a kernel of 6.12 or later has the scopes', facts };
    }
    if (answer === 'EOPNOTSUPP') return { id: 'landlock', title, verdict: 'warn', summary: 'Landlock is built in but switched off at boot: profiles\' filesystem rules and scopes are skipped', fix: 'add landlock to the kernel parameter lsm= (keep the others listed in /sys/kernel/security/lsm)', facts };
    return { id: 'landlock', title, verdict: 'warn', summary: `this kernel has no Landlock (${answer}): profiles' filesystem rules and scopes are skipped`, fix: 'use a kernel with CONFIG_SECURITY_LANDLOCK (5.13 or later, 6.12 for the scopes)', facts };
  }
  // No probe: the LSM list and the version say what they can.
  const listed = lsm ? lsm.includes('landlock') : null;
  if (listed === false) return { id: 'landlock', title, verdict: 'warn', summary: 'Landlock is not among the active security modules: profiles\' filesystem rules and scopes are skipped', fix: 'add landlock to the kernel parameter lsm=', facts };
  return { id: 'landlock', title, verdict: 'warn', summary: `Landlock ABI unknown (sandbox-probe is not built)${kv && !atLeast(kv, KERNEL_NEEDS.landlock) ? '; the kernel is older than 5.13, which brought it' : ''}`, fix: 'run `npm install` (builds native/build/sandbox-probe), then doctor again', facts };
}

function callsFinding(probe: ProbeAnswers | null, kv: [number, number] | null): Finding {
  const calls = ['open_tree', 'openat2', 'mount_setattr', 'clone3', 'clone_into_cgroup'] as const;
  const required = new Set(['open_tree', 'openat2', 'mount_setattr']);
  const have: Record<string, boolean | null> = {};
  let source: string;
  if (probe && calls.every((c) => probe[c] !== undefined)) {
    source = 'sandbox-probe';
    for (const c of calls) have[c] = probe[c] === 'ok';
  } else {
    source = 'kernel version';
    for (const c of calls) have[c] = kv ? atLeast(kv, KERNEL_NEEDS[c]) : null;
  }
  const facts: Record<string, FactValue> = { source };
  for (const c of calls) facts[c] = have[c];
  const title = 'kernel calls';
  const missingRequired = calls.filter((c) => required.has(c) && have[c] === false);
  const judged = source === 'kernel version' ? ' (judged from the kernel version; the probe is not built)' : '';
  if (missingRequired.length) {
    return { id: 'syscalls', title, verdict: 'fail', summary: `the kernel lacks ${missingRequired.join(', ')}, which the stage builds the new root with: sandboxes can't start${judged}`, fix: 'use Linux 5.12 or later; inside a container, its seccomp policy may hide new calls (ENOSYS)', facts };
  }
  if (!have.clone3 || !have.clone_into_cgroup) {
    return { id: 'syscalls', title, verdict: 'warn', summary: `open_tree, openat2, mount_setattr: present; ${have.clone3 ? 'CLONE_INTO_CGROUP' : 'clone3'} missing: the monitor moves the child into its cgroup by writing cgroup.procs instead, before it runs anything${judged}`, facts };
  }
  if (source === 'kernel version') {
    return { id: 'syscalls', title, verdict: 'warn', summary: `open_tree, openat2, mount_setattr, clone3, CLONE_INTO_CGROUP should be there${judged}`, fix: 'run `npm install` (builds native/build/sandbox-probe), then doctor again', facts };
  }
  return { id: 'syscalls', title, verdict: 'ok', summary: 'open_tree, openat2, mount_setattr, clone3 and CLONE_INTO_CGROUP are all there', facts };
}

function idMapFinding(host: HostReader, name: string | null): Finding {
  const newuidmap = host.which('newuidmap');
  const newgidmap = host.which('newgidmap');
  const ranges = (file: string) => (host.readFile(file) ?? '').split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && (f[0] === name || f[0] === String(host.uid)))
    .map((f) => `${f[1]}+${f[2]}`);
  const subuid = ranges('/etc/subuid');
  const subgid = ranges('/etc/subgid');
  const facts: Record<string, FactValue> = { newuidmap, newgidmap, subuid, subgid };
  const tools = newuidmap && newgidmap ? 'newuidmap and newgidmap are installed' : 'newuidmap/newgidmap are not installed';
  const ids = subuid.length ? `/etc/subuid gives you ${subuid.join(', ')}` : '/etc/subuid has no entry for you';
  return { id: 'idmap', title: 'newuidmap', verdict: 'ok', summary: `${tools}, ${ids}; not needed: the sandbox maps only your own uid and gid, without setuid helpers`, facts };
}

export function diagnoseHost(host: HostReader): DoctorReport {
  const name = userName(host);
  const release = (host.readFile('/proc/sys/kernel/osrelease') ?? '').trim() || null;
  const kv = kernelVersion(release);
  const probe = host.probe();
  const findings: Finding[] = [];
  const caller = callerFinding(host, name);
  if (caller) findings.push(caller);
  findings.push(
    stageFinding(host),
    kernelFinding(release),
    usernsFinding(host, probe),
    callsFinding(probe, kv),
    cgroupFinding(host.cgroup(), host.readFile('/proc/self/mountinfo') ?? ''),
    seccompFinding(host),
    landlockFinding(host, probe, kv),
    idMapFinding(host, name),
  );
  return { canRun: findings.every((f) => f.verdict !== 'fail'), uid: host.uid, gid: host.gid, user: name, findings };
}
