#!/usr/bin/env node
import '../dist/main-tf.js';
