// Original file: sibyl/router/v1/router.proto


export interface ModelIndexEntry {
  'name'?: (string);
  'version'?: (string);
  'state'?: (string);
  'reason'?: (string);
}

export interface ModelIndexEntry__Output {
  'name'?: (string);
  'version'?: (string);
  'state'?: (string);
  'reason'?: (string);
}
