#!/usr/bin/env node
import '../dist/main-onnx.js';
