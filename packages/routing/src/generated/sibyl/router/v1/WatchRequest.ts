// Original file: sibyl/router/v1/router.proto


export interface WatchRequest {
}

export interface WatchRequest__Output {
}
