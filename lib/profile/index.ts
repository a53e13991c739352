// The profile subsystem's public surface: load a profile into a SandboxSpec, check or show one, list them.
export { loadProfile, checkProfile, resolveProfile, findProfile, listProfiles, ensureProfileDirs, profileName, isProfilePath, readChain, profileForProgram } from './load';
export type { LoadedProfile, ResolvedProfile, ProfileListing, ProgramProfile } from './load';
export { hostProfileContext, shippedProfilesDir, userProfilesDir, dataHome, packageRoot } from './context';
export type { ProfileContext } from './context';
export { readProfileText, parseMode, DocumentReader } from './document';
export type { Locate, ProfileDoc, FsEntry, Marked } from './document';
export { formatResolvedProfile } from './show';
export { parseTemplate, expandTemplate, SPECIAL_VARIABLES } from './template';
export type { Template } from './template';
export type { JsonPath } from '../json5-text';
export { scanPositions } from '../json5-text';
