// `sandbox completion bash|zsh|fish`: the completion scripts, written from the command table (commands.ts)
// and the run option table (run-options.ts), so a new option completes without anyone editing a script.
// Profile names come from `sandbox profiles` at completion time, so the user's own profiles are offered too.
// The command after `sandbox run [OPTIONS]` completes as a command of its own (bash-completion's
// _command_offset, zsh's _normal, fish's complete -C).
import { SandboxError } from '../errors';
import { COMMANDS, GLOBAL_OPTIONS, type CommandDef } from './commands';
import { didYouMean } from './suggest';
import type { RunIo } from './run';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** What an option's argument completes to. */
export type ArgKind = { values: string[] } | 'profile' | 'file' | 'none';

export interface CompletableOption { name: string; args: string[]; help: string; kinds: ArgKind[] }

const FILE_ARGS = new Set(['SRC', 'DST', 'FILE', 'DIR', 'PATH', 'TARGET']);

/** The run options with what each argument completes to: the table's argument names say it, and a few options their values. */
export function runOptions(): CompletableOption[] {
  const { RUN_OPTIONS, ALWAYS_ON } = require('./run-options') as typeof import('./run-options');
  const { DEVICE_NAMES } = require('../profile/tables') as typeof import('../profile/tables');
  const values: Record<string, string[]> = {
    '--device': [...DEVICE_NAMES], '--device-try': [...DEVICE_NAMES], '--file-args': ['ro', 'rw', 'profile'], '--limits': ['strict', 'best-effort'],
  };
  const out: CompletableOption[] = Object.entries(RUN_OPTIONS).map(([name, def]) => ({
    name, args: def.args, help: def.help,
    kinds: def.args.map((a): ArgKind => (values[name] ? { values: values[name] } : name === '--profile' ? 'profile' : FILE_ARGS.has(a) ? 'file' : 'none')),
  }));
  for (const name of ALWAYS_ON) out.push({ name, args: [], help: 'accepted for bubblewrap compatibility (always in force)', kinds: [] });
  return out;
}

function compileOptions(): CompletableOption[] {
  return [...runOptions(), { name: '-o', args: ['FILE'], help: 'where to write the plan', kinds: ['file'] }, { name: '--output', args: ['FILE'], help: 'where to write the plan', kinds: ['file'] }];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const words = (list: string[]) => list.join(' ');

function bashArgCase(opts: CompletableOption[]): string {
  const lines: string[] = [];
  for (const o of opts) {
    o.kinds.forEach((k, i) => {
      const action = k === 'profile' ? 'COMPREPLY=($(compgen -W "$(_sandbox_profiles "$1")" -- "$cur"))'
        : k === 'file' ? 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
          : k === 'none' ? 'COMPREPLY=()' : `COMPREPLY=($(compgen -W ${q(words(k.values))} -- "$cur"))`;
      lines.push(`      ${o.name}:${i + 1}) ${action} ;;`);
    });
  }
  return lines.join('\n');
}

function byArity(opts: CompletableOption[], n: number): string {
  return opts.filter((o) => o.args.length === n).map((o) => o.name).join('|') || '--never-an-option';
}

function subcommandCases(shell: 'bash'): string {
  const out: string[] = [];
  for (const c of COMMANDS.filter((x) => x.name !== 'run' && x.name !== 'compile')) {
    const subs = c.subcommands?.map((s) => s.name) ?? [];
    const optsOf = (d: CommandDef) => ['--help', ...(d.options ?? []).map((o) => o.name)];
    const body: string[] = [];
    if (subs.length) {
      body.push(`      if [ $i -eq $COMP_CWORD ]; then COMPREPLY=($(compgen -W ${q(words([...subs, '--help']))} -- "$cur")); return; fi`);
      body.push('      case ${COMP_WORDS[i]} in');
      for (const s of c.subcommands!) {
        const argOpts = (s.options ?? []).filter((o) => o.arg);
        const optCase = argOpts.map((o) => `          ${o.name}) ${o.values ? `COMPREPLY=($(compgen -W ${q(words(o.values))} -- "$cur"))` : o.name === '--profile' ? 'COMPREPLY=($(compgen -W "$(_sandbox_profiles "$1")" -- "$cur"))' : 'COMPREPLY=()'}; return ;;`).join('\n');
        const pos = s.complete === 'profile' ? 'COMPREPLY=($(compgen -W "$(_sandbox_profiles "$1")" -- "$cur"))'
          : s.complete === 'file' ? 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
        body.push(`        ${s.name})`);
        if (optCase) body.push('          case $prev in', optCase, '          esac');
        body.push(`          if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${q(words(optsOf(s)))} -- "$cur")); else ${pos}; fi ;;`);
      }
      body.push('      esac');
    } else {
      const pos = c.complete === 'shell' ? `COMPREPLY=($(compgen -W ${q(words([...SHELLS]))} -- "$cur"))` : 'COMPREPLY=()';
      body.push(`      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${q(words(optsOf(c)))} -- "$cur")); else ${pos}; fi`);
    }
    out.push(`    ${c.name})`, ...body, '      ;;');
  }
  void shell;
  return out.join('\n');
}

export function bashScript(): string {
  const run = runOptions();
  const compile = compileOptions();
  const walk = (opts: CompletableOption[]) => `
      while [ $i -lt $COMP_CWORD ]; do
        w=\${COMP_WORDS[i]}
        case $w in
          --) i=$((i + 1)); after=1; break ;;
          --*=*) i=$((i + 1)) ;;
          ${byArity(opts, 2)}) if [ $COMP_CWORD -le $((i + 2)) ]; then opt=$w; argn=$((COMP_CWORD - i)); break; fi; i=$((i + 3)) ;;
          ${byArity(opts, 1)}) if [ $COMP_CWORD -le $((i + 1)) ]; then opt=$w; argn=$((COMP_CWORD - i)); break; fi; i=$((i + 2)) ;;
          -*) i=$((i + 1)) ;;
          *) break ;;
        esac
      done`;
  return `# bash completion for sandbox: written by \`sandbox completion bash\` from its option tables.
# Install: sandbox completion bash > ~/.local/share/bash-completion/completions/sandbox

_sandbox_profiles() {
  "$1" profiles 2>/dev/null | while read -r name _; do [ "$name" = NAME ] || printf '%s\\n' "$name"; done
}

# the option argument being completed: $opt is the option, $argn which of its arguments
_sandbox_optarg() {
  case $opt:$argn in
${bashArgCase(compile)}
    *) COMPREPLY=() ;;
  esac
}

_sandbox() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} i=1 w opt= argn= after=
  COMPREPLY=()
  while [ $i -lt $COMP_CWORD ]; do
    case \${COMP_WORDS[i]} in -*) i=$((i + 1)) ;; *) break ;; esac
  done
  if [ $i -ge $COMP_CWORD ]; then
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${q(words(GLOBAL_OPTIONS.flatMap((g) => [g.name, g.short])))} -- "$cur"))
    else COMPREPLY=($(compgen -W ${q(words([...COMMANDS.map((c) => c.name), 'help']))} -- "$cur")); fi
    return
  fi
  local cmd=\${COMP_WORDS[i]}
  i=$((i + 1))
  case $cmd in
    run|compile)
      if [ "$cmd" = run ]; then${walk(run).replace(/\n/g, '\n  ')}
      else${walk(compile).replace(/\n/g, '\n  ')}
      fi
      if [ -n "$opt" ]; then _sandbox_optarg "$1"; return; fi
      if [ $i -eq $COMP_CWORD ] && [ -z "$after" ] && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W ${q(words(compile.map((o) => o.name)))} -- "$cur"))
        [ "$cmd" = run ] && COMPREPLY=($(compgen -W ${q(words(run.map((o) => o.name)))} -- "$cur"))
        return
      fi
      # the command and its arguments complete as that command's own
      if declare -F _command_offset >/dev/null; then _command_offset $i; return; fi
      if [ $i -eq $COMP_CWORD ]; then COMPREPLY=($(compgen -c -- "$cur"))
      else compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); fi
      ;;
    help)
      COMPREPLY=($(compgen -W ${q(words(COMMANDS.map((c) => c.name)))} -- "$cur")) ;;
${subcommandCases('bash')}
  esac
}
complete -F _sandbox sandbox
`;
}

export function zshScript(): string {
  const run = runOptions();
  const compile = compileOptions();
  const optSpec = (o: CompletableOption) => {
    const desc = o.help.replace(/[[\]:'\\]/g, ' ');
    return `'${o.name}[${desc}]'`;
  };
  const argAction = (opts: CompletableOption[]) => opts.flatMap((o) => o.kinds.map((k, i) => {
    const action = k === 'profile' ? 'compadd -- ${(f)"$(_sandbox_profiles)"}' : k === 'file' ? '_files' : k === 'none' ? '_message ' + o.args[i].toLowerCase() : `compadd -- ${words(k.values)}`;
    return `      ${o.name}:${i + 1}) ${action} ;;`;
  })).join('\n');
  const cmdList = COMMANDS.map((c) => `'${c.name}:${c.summary.replace(/[:'\\]/g, ' ')}'`).join(' ');
  const rest = COMMANDS.filter((c) => c.name !== 'run' && c.name !== 'compile').map((c) => {
    if (c.subcommands) {
      const subs = c.subcommands.map((s) => `'${s.name}:${s.summary.replace(/[:'\\]/g, ' ')}'`).join(' ');
      const inner = c.subcommands.map((s) => {
        const pos = s.complete === 'profile' ? 'compadd -- ${(f)"$(_sandbox_profiles)"}' : s.complete === 'file' ? '_files' : ':';
        const opts = ['--help', ...(s.options ?? []).map((o) => o.name)].join(' ');
        const prof = (s.options ?? []).some((o) => o.name === '--profile') ? `[[ $words[CURRENT-1] == --profile ]] && { compadd -- \${(f)"$(_sandbox_profiles)"}; return; }; ` : '';
        const arch = (s.options ?? []).find((o) => o.values);
        const archLine = arch ? `[[ $words[CURRENT-1] == ${arch.name} ]] && { compadd -- ${words(arch.values!)}; return; }; ` : '';
        return `        ${s.name}) ${prof}${archLine}if [[ $PREFIX == -* ]]; then compadd -- ${opts}; else ${pos}; fi ;;`;
      }).join('\n');
      return `    ${c.name})\n      if (( CURRENT == 3 )); then local -a subs; subs=(${subs}); _describe subcommand subs; return; fi\n      case $words[3] in\n${inner}\n      esac ;;`;
    }
    const pos = c.complete === 'shell' ? `compadd -- ${words([...SHELLS])}` : ':';
    return `    ${c.name}) if [[ $PREFIX == -* ]]; then compadd -- ${['--help', ...(c.options ?? []).map((o) => o.name)].join(' ')}; else ${pos}; fi ;;`;
  }).join('\n');
  const walk = (opts: CompletableOption[]) => `while (( i < CURRENT )); do
        case $words[i] in
          --) (( i++ )); after=1; break ;;
          --*=*) (( i++ )) ;;
          ${byArity(opts, 2)}) if (( CURRENT <= i + 2 )); then opt=$words[i]; argn=$(( CURRENT - i )); break; fi; (( i += 3 )) ;;
          ${byArity(opts, 1)}) if (( CURRENT <= i + 1 )); then opt=$words[i]; argn=$(( CURRENT - i )); break; fi; (( i += 2 )) ;;
          -*) (( i++ )) ;;
          *) break ;;
        esac
      done`;
  return `#compdef sandbox
# zsh completion for sandbox: written by \`sandbox completion zsh\` from its option tables.
# Install: sandbox completion zsh > "\${fpath[1]}/_sandbox" (a directory on $fpath), then compinit.

_sandbox_profiles() {
  sandbox profiles 2>/dev/null | while read -r name rest; do [[ $name == NAME ]] || print -r -- $name; done
}

_sandbox_run_optarg() {
  case $1:$2 in
${argAction(compile)}
    *) : ;;
  esac
}

_sandbox() {
  local i=2 opt= argn= after=
  while (( i < CURRENT )) && [[ $words[i] == -* ]]; do (( i++ )); done
  if (( i >= CURRENT )); then
    if [[ $PREFIX == -* ]]; then compadd -- ${words(GLOBAL_OPTIONS.flatMap((g) => [g.name, g.short]))}
    else local -a cmds; cmds=(${cmdList}); _describe command cmds; fi
    return
  fi
  local cmd=$words[i]
  (( i++ ))
  case $cmd in
    run|compile)
      if [[ $cmd == run ]]; then
        local -a optnames; optnames=(${run.map(optSpec).join(' ')})
        ${walk(run)}
      else
        local -a optnames; optnames=(${compile.map(optSpec).join(' ')})
        ${walk(compile)}
      fi
      if [[ -n $opt ]]; then _sandbox_run_optarg $opt $argn; return; fi
      if (( i == CURRENT )) && [[ -z $after && $PREFIX == -* ]]; then _values option $optnames; return; fi
      # the command and its arguments complete as that command's own
      shift $(( i - 1 )) words
      (( CURRENT -= i - 1 ))
      _normal
      ;;
    help) compadd -- ${words(COMMANDS.map((c) => c.name))} ;;
${rest}
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _sandbox "$@"
else
  compdef _sandbox sandbox
fi
`;
}

export function fishScript(): string {
  const run = runOptions();
  const compile = compileOptions();
  const lines: string[] = [
    '# fish completion for sandbox: written by `sandbox completion fish` from its option tables.',
    '# Install: sandbox completion fish > ~/.config/fish/completions/sandbox.fish',
    '',
    'function __sandbox_profiles',
    '    sandbox profiles 2>/dev/null | while read -l name rest',
    '        test "$name" = NAME; or echo $name',
    '    end',
    'end',
    '',
    '# the words after `sandbox run|compile [OPTIONS] [--]`: the command being run, when there is one',
    'function __sandbox_command_words',
    '    set -l tokens (commandline -opc)',
    '    set -l i 2',
    '    while test $i -le (count $tokens); and string match -q -- "-*" $tokens[$i]',
    '        set i (math $i + 1)',
    '    end',
    '    contains -- "$tokens[$i]" run compile; or return 1',
    '    set i (math $i + 1)',
    '    while test $i -le (count $tokens)',
    '        switch $tokens[$i]',
    '            case --',
    '                set i (math $i + 1); break',
    '            case \'--*=*\'',
    '                set i (math $i + 1)',
    `            case ${run.concat(compile).filter((o) => o.args.length === 2).map((o) => o.name).filter((v, k, a) => a.indexOf(v) === k).join(' ')}`,
    '                set i (math $i + 3)',
    `            case ${compile.filter((o) => o.args.length === 1).map((o) => o.name).join(' ')}`,
    '                set i (math $i + 2)',
    '            case \'-*\'',
    '                set i (math $i + 1)',
    '            case \'*\'',
    '                break',
    '        end',
    '    end',
    '    test $i -le (count $tokens); or return 1',
    '    printf "%s\\n" $tokens[$i..-1]',
    'end',
    '',
    'function __sandbox_in_command',
    '    __sandbox_command_words >/dev/null',
    'end',
    '',
    'function __sandbox_complete_command',
    '    set -l words (__sandbox_command_words)',
    '    complete -C (string join " " -- (string escape -- $words) (commandline -ct))',
    'end',
    '',
    'complete -c sandbox -f',
    ...GLOBAL_OPTIONS.map((g) => `complete -c sandbox -n __fish_use_subcommand -l ${g.name.slice(2)} -s ${g.short.slice(1)} -d ${q(g.help)}`),
    ...COMMANDS.map((c) => `complete -c sandbox -n __fish_use_subcommand -a ${c.name} -d ${q(c.summary)}`),
    'complete -c sandbox -n "__sandbox_in_command" -a "(__sandbox_complete_command)"',
  ];
  for (const [cmd, opts] of [['run', run], ['compile', compile]] as const) {
    for (const o of opts) {
      const flag = o.name.startsWith('--') ? `-l ${o.name.slice(2)}` : `-s ${o.name.slice(1)}`;
      const k = o.kinds[0];
      const arg = !k ? '' : k === 'profile' ? ' -x -a "(__sandbox_profiles)"' : k === 'file' ? ' -r -F' : k === 'none' ? ' -x' : ` -x -a ${q(words(k.values))}`;
      lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${cmd}; and not __sandbox_in_command" ${flag}${arg} -d ${q(o.help)}`);
    }
    lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${cmd}; and not __sandbox_in_command" -a "(__fish_complete_command)"`);
  }
  for (const c of COMMANDS.filter((x) => x.name !== 'run' && x.name !== 'compile')) {
    lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${c.name}" -l help -d 'this help'`);
    for (const s of c.subcommands ?? []) {
      const others = c.subcommands!.map((x) => x.name).join(' ');
      lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${others}" -a ${s.name} -d ${q(s.summary)}`);
      const seen = `__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${s.name}`;
      if (s.complete === 'profile') lines.push(`complete -c sandbox -n "${seen}" -a "(__sandbox_profiles)"`);
      if (s.complete === 'file') lines.push(`complete -c sandbox -n "${seen}" -F`);
      for (const o of s.options ?? []) {
        const arg = !o.arg ? '' : o.values ? ` -x -a ${q(words(o.values))}` : o.name === '--profile' ? ' -x -a "(__sandbox_profiles)"' : ' -x';
        lines.push(`complete -c sandbox -n "${seen}" -l ${o.name.slice(2)}${arg} -d ${q(o.help)}`);
      }
    }
    for (const o of c.options ?? []) lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${c.name}" -l ${o.name.slice(2)} -d ${q(o.help)}`);
    if (c.complete === 'shell') lines.push(`complete -c sandbox -n "__fish_seen_subcommand_from ${c.name}" -a ${q(words([...SHELLS]))}`);
  }
  return lines.join('\n') + '\n';
}

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? bashScript() : shell === 'zsh' ? zshScript() : fishScript();
}

export function runCompletionCommand(args: string[], io: RunIo): number {
  const [shell, ...rest] = args;
  if (shell === undefined) throw new SandboxError('completion: expected a shell: bash, zsh or fish (see sandbox completion --help)');
  if (!(SHELLS as readonly string[]).includes(shell)) throw new SandboxError(`completion: found "${shell}", expected bash, zsh or fish${didYouMean(shell, SHELLS)}`);
  if (rest.length) throw new SandboxError(`completion ${shell}: found extra argument "${rest[0]}", expected none`);
  io.out(completionScript(shell as Shell).trimEnd());
  return 0;
}
