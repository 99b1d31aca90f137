// One writer of the tiny test model, kept beside the fake Hub in e2e/support (which the server tests
// import too), so the Playwright tests can use it without importing server test code.
export * from '../../../e2e/support/tiny-gguf.js';
