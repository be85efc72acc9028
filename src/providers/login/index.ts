// The console-login family (`aws login`, `login_session`): credentials from the Sign-In service's
// token cache, refreshed with a DPoP proof. Code outside this folder imports from here.
export * from './login.js';
