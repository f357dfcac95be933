// A read_only connection may read, never write (docs/contract.md Part A "Acting on behalf"; docs/security-model.md AP-02).
import { ApiError } from '../domain/errors.ts';
import type { ApiCaller } from './authenticate.ts';
import type { Access } from './route-table.ts';

export function enforceScope(caller: ApiCaller, access: Access): void {
  if (access === 'write' && caller.scope === 'read_only') {
    throw new ApiError(403, `This application does not have the required permissions for this endpoint on account '${caller.accountId}'. Having the 'read_write' scope would allow this request to continue.`, { code: 'more_permissions_required_for_application' });
  }
}
