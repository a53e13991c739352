// What a sandbox may ask of the host's PulseAudio server (or pipewire-pulse, which speaks the same
// protocol): the policy that native/pulse-proxy.c enforces. The proxy holds no list of its own; it gets
// the command numbers below on its command line. Pure: no host access.
//
// Allowed: what playing and recording streams need (connect, name the client, create, control and end
// its own streams, latency, the server's and the devices' descriptions, change events). Refused: anything
// that changes the server or reaches other clients: loading and unloading modules (a module such as
// module-ladspa-sink loads a .so the sandbox names into the server, outside the sandbox), the sample
// cache, killing and moving streams, defaults, suspending, card profiles, ports, volumes of devices,
// extensions, object messages, and listing modules, clients and other programs' streams.

/** PulseAudio's command numbers (src/pulsecore/native-common.h); a name's number never changes. */
export const PA_COMMANDS = {
  ERROR: 0,
  TIMEOUT: 1,
  REPLY: 2,
  CREATE_PLAYBACK_STREAM: 3,
  DELETE_PLAYBACK_STREAM: 4,
  CREATE_RECORD_STREAM: 5,
  DELETE_RECORD_STREAM: 6,
  EXIT: 7,
  AUTH: 8,
  SET_CLIENT_NAME: 9,
  LOOKUP_SINK: 10,
  LOOKUP_SOURCE: 11,
  DRAIN_PLAYBACK_STREAM: 12,
  STAT: 13,
  GET_PLAYBACK_LATENCY: 14,
  CREATE_UPLOAD_STREAM: 15,
  DELETE_UPLOAD_STREAM: 16,
  FINISH_UPLOAD_STREAM: 17,
  PLAY_SAMPLE: 18,
  REMOVE_SAMPLE: 19,
  GET_SERVER_INFO: 20,
  GET_SINK_INFO: 21,
  GET_SINK_INFO_LIST: 22,
  GET_SOURCE_INFO: 23,
  GET_SOURCE_INFO_LIST: 24,
  GET_MODULE_INFO: 25,
  GET_MODULE_INFO_LIST: 26,
  GET_CLIENT_INFO: 27,
  GET_CLIENT_INFO_LIST: 28,
  GET_SINK_INPUT_INFO: 29,
  GET_SINK_INPUT_INFO_LIST: 30,
  GET_SOURCE_OUTPUT_INFO: 31,
  GET_SOURCE_OUTPUT_INFO_LIST: 32,
  GET_SAMPLE_INFO: 33,
  GET_SAMPLE_INFO_LIST: 34,
  SUBSCRIBE: 35,
  SET_SINK_VOLUME: 36,
  SET_SINK_INPUT_VOLUME: 37,
  SET_SOURCE_VOLUME: 38,
  SET_SINK_MUTE: 39,
  SET_SOURCE_MUTE: 40,
  CORK_PLAYBACK_STREAM: 41,
  FLUSH_PLAYBACK_STREAM: 42,
  TRIGGER_PLAYBACK_STREAM: 43,
  SET_DEFAULT_SINK: 44,
  SET_DEFAULT_SOURCE: 45,
  SET_PLAYBACK_STREAM_NAME: 46,
  SET_RECORD_STREAM_NAME: 47,
  KILL_CLIENT: 48,
  KILL_SINK_INPUT: 49,
  KILL_SOURCE_OUTPUT: 50,
  LOAD_MODULE: 51,
  UNLOAD_MODULE: 52,
  ADD_AUTOLOAD_OBSOLETE: 53,
  REMOVE_AUTOLOAD_OBSOLETE: 54,
  GET_AUTOLOAD_INFO_OBSOLETE: 55,
  GET_AUTOLOAD_INFO_LIST_OBSOLETE: 56,
  GET_RECORD_LATENCY: 57,
  CORK_RECORD_STREAM: 58,
  FLUSH_RECORD_STREAM: 59,
  PREBUF_PLAYBACK_STREAM: 60,
  REQUEST: 61,
  OVERFLOW: 62,
  UNDERFLOW: 63,
  PLAYBACK_STREAM_KILLED: 64,
  RECORD_STREAM_KILLED: 65,
  SUBSCRIBE_EVENT: 66,
  MOVE_SINK_INPUT: 67,
  MOVE_SOURCE_OUTPUT: 68,
  SET_SINK_INPUT_MUTE: 69,
  SUSPEND_SINK: 70,
  SUSPEND_SOURCE: 71,
  SET_PLAYBACK_STREAM_BUFFER_ATTR: 72,
  SET_RECORD_STREAM_BUFFER_ATTR: 73,
  UPDATE_PLAYBACK_STREAM_SAMPLE_RATE: 74,
  UPDATE_RECORD_STREAM_SAMPLE_RATE: 75,
  PLAYBACK_STREAM_SUSPENDED: 76,
  RECORD_STREAM_SUSPENDED: 77,
  PLAYBACK_STREAM_MOVED: 78,
  RECORD_STREAM_MOVED: 79,
  UPDATE_RECORD_STREAM_PROPLIST: 80,
  UPDATE_PLAYBACK_STREAM_PROPLIST: 81,
  UPDATE_CLIENT_PROPLIST: 82,
  REMOVE_RECORD_STREAM_PROPLIST: 83,
  REMOVE_PLAYBACK_STREAM_PROPLIST: 84,
  REMOVE_CLIENT_PROPLIST: 85,
  STARTED: 86,
  EXTENSION: 87,
  GET_CARD_INFO: 88,
  GET_CARD_INFO_LIST: 89,
  SET_CARD_PROFILE: 90,
  CLIENT_EVENT: 91,
  PLAYBACK_STREAM_EVENT: 92,
  RECORD_STREAM_EVENT: 93,
  PLAYBACK_BUFFER_ATTR_CHANGED: 94,
  RECORD_BUFFER_ATTR_CHANGED: 95,
  SET_SINK_PORT: 96,
  SET_SOURCE_PORT: 97,
  SET_SOURCE_OUTPUT_VOLUME: 98,
  SET_SOURCE_OUTPUT_MUTE: 99,
  SET_PORT_LATENCY_OFFSET: 100,
  ENABLE_SRBCHANNEL: 101,
  DISABLE_SRBCHANNEL: 102,
  REGISTER_MEMFD_SHMID: 103,
  SEND_OBJECT_MESSAGE: 104,
} as const;

export type PaCommand = keyof typeof PA_COMMANDS;

/** Passed whatever their arguments: they act on the connection's own streams (by channel) or only read. */
export const PULSE_ALLOW: readonly PaCommand[] = [
  'AUTH',
  'SET_CLIENT_NAME',
  'UPDATE_CLIENT_PROPLIST',
  'REMOVE_CLIENT_PROPLIST',
  'CREATE_PLAYBACK_STREAM',
  'DELETE_PLAYBACK_STREAM',
  'CREATE_RECORD_STREAM',
  'DELETE_RECORD_STREAM',
  'DRAIN_PLAYBACK_STREAM',
  'CORK_PLAYBACK_STREAM',
  'FLUSH_PLAYBACK_STREAM',
  'TRIGGER_PLAYBACK_STREAM',
  'PREBUF_PLAYBACK_STREAM',
  'CORK_RECORD_STREAM',
  'FLUSH_RECORD_STREAM',
  'GET_PLAYBACK_LATENCY',
  'GET_RECORD_LATENCY',
  'SET_PLAYBACK_STREAM_NAME',
  'SET_RECORD_STREAM_NAME',
  'SET_PLAYBACK_STREAM_BUFFER_ATTR',
  'SET_RECORD_STREAM_BUFFER_ATTR',
  'UPDATE_PLAYBACK_STREAM_SAMPLE_RATE',
  'UPDATE_RECORD_STREAM_SAMPLE_RATE',
  'UPDATE_PLAYBACK_STREAM_PROPLIST',
  'UPDATE_RECORD_STREAM_PROPLIST',
  'REMOVE_PLAYBACK_STREAM_PROPLIST',
  'REMOVE_RECORD_STREAM_PROPLIST',
  'GET_SERVER_INFO',
  'LOOKUP_SINK',
  'LOOKUP_SOURCE',
  'GET_SINK_INFO',
  'GET_SINK_INFO_LIST',
  'GET_SOURCE_INFO',
  'GET_SOURCE_INFO_LIST',
  'SUBSCRIBE',
];

/**
 * Passed only when their first argument is a sink input this connection created (the proxy learns the
 * index from the server's reply to CREATE_PLAYBACK_STREAM): a browser's own volume slider, its own stream's
 * description. Another program's stream is refused like any other forbidden command.
 */
export const PULSE_OWN_SINK_INPUT: readonly PaCommand[] = ['GET_SINK_INPUT_INFO', 'SET_SINK_INPUT_VOLUME', 'SET_SINK_INPUT_MUTE'];

/** The same for source outputs (recording streams), learned from CREATE_RECORD_STREAM's reply. */
export const PULSE_OWN_SOURCE_OUTPUT: readonly PaCommand[] = ['GET_SOURCE_OUTPUT_INFO', 'SET_SOURCE_OUTPUT_VOLUME', 'SET_SOURCE_OUTPUT_MUTE'];

/** How the proxy treats a command from the sandbox: the policy in one place (unit tests read this). */
export function pulseRuleFor(command: number): 'allow' | 'own-sink-input' | 'own-source-output' | 'refuse' {
  const name = (Object.keys(PA_COMMANDS) as PaCommand[]).find((k) => PA_COMMANDS[k] === command);
  if (!name) return 'refuse';
  if (PULSE_ALLOW.includes(name)) return 'allow';
  if (PULSE_OWN_SINK_INPUT.includes(name)) return 'own-sink-input';
  if (PULSE_OWN_SOURCE_OUTPUT.includes(name)) return 'own-source-output';
  return 'refuse';
}

const numbers = (names: readonly PaCommand[]): string => names.map((n) => PA_COMMANDS[n]).join(',');

/** The proxy's command line (after the program's name). */
export function pulseProxyArgs(o: { listen: string; upstream: string; fd: number; verbose?: boolean }): string[] {
  const args = ['--listen', o.listen, '--upstream', o.upstream, '--fd', String(o.fd), '--allow', numbers(PULSE_ALLOW), '--own-sink-input', numbers(PULSE_OWN_SINK_INPUT), '--own-source-output', numbers(PULSE_OWN_SOURCE_OUTPUT)];
  if (o.verbose) args.push('--verbose');
  return args;
}

/** A profile's `pulseaudio` socket after the host was looked at: which server the proxy connects to and where the sandbox finds it. */
export interface PulseSpec {
  /** The host's server socket (the proxy's upstream). */
  upstream: string;
  /** Where the proxy's socket is bound inside: $XDG_RUNTIME_DIR/pulse/native (where libpulse looks), else the host's path. */
  inside: string;
  /** Set inside: PULSE_SERVER naming `inside`, and XDG_RUNTIME_DIR where it was set. */
  env: Record<string, string>;
  /** "optional" in the profile: a compiled plan leaves it out instead of failing. */
  optional: boolean;
  /** file:line:col of the socket entry. */
  origin: string;
}

/** Where the sandbox's end goes: libpulse's default place when XDG_RUNTIME_DIR is set, so a client that ignores PULSE_SERVER still finds it. */
export function pulseInside(env: Record<string, string | undefined>, upstream: string): { inside: string; env: Record<string, string> } {
  const rt = env.XDG_RUNTIME_DIR;
  if (rt && rt.startsWith('/')) {
    const inside = `${rt.replace(/\/+$/, '')}/pulse/native`;
    return { inside, env: { XDG_RUNTIME_DIR: rt, PULSE_SERVER: `unix:${inside}` } };
  }
  return { inside: upstream, env: { PULSE_SERVER: `unix:${upstream}` } };
}
