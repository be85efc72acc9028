// The profile family: `fromIni`, a profile of the shared config files resolved the way the AWS CLI does
// (it builds the other families' providers from the plan of src/config/plan.ts). Code outside this
// folder imports from here (the package root excepted: it takes ProfileCredentialsError from errors.ts,
// so that importing the root never loads ini.ts, which loads on first use via heavy.ts).
export { fromIni, type FromIniOptions, type IniStsOptions, type IniSsoOptions } from './ini.js';
export { ProfileCredentialsError } from './errors.js';
