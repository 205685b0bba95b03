// Original file: sibyl/router/v1/router.proto


export interface IndexRequest {
}

export interface IndexRequest__Output {
}
