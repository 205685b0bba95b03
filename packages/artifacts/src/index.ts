export {
  createArtifactStore,
  type ArtifactFormat,
  type ArtifactInfo,
  type ArtifactReadStream,
  type ArtifactStore,
  type DirectoryArtifact,
  type FileArtifact,
  type PutOptions,
  type StoredArtifact,
} from './artifact-store.js';
export type { ArtifactStoreOptions, ResolvedStoreOptions } from './store-options.js';
export { assertSha256, isSha256 } from './store-layout.js';
export * from './errors.js';
export { registerArtifactRoutes, ARTIFACTS_ROUTE, SHA256_HEADER } from './artifact-routes.js';
export { fetchArtifact, type FetchArtifactOptions } from './fetch-artifact.js';
