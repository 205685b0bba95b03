// Original file: sibyl/router/v1/router.proto


export interface RouteTarget {
  'id'?: (string);
  'address'?: (string);
  'load'?: (number);
}

export interface RouteTarget__Output {
  'id'?: (string);
  'address'?: (string);
  'load'?: (number);
}
