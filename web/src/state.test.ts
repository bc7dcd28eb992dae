import { describe, expect, it } from 'vitest';
import { parseHash } from './state';

describe('hash router', () => {
  it('maps hashes to routes and decodes ids', () => {
    expect(parseHash('')).toEqual({ name: 'discover', params: {} });
    expect(parseHash('#/')).toEqual({ name: 'discover', params: {} });
    expect(parseHash('#/friends')).toEqual({ name: 'friends', params: {} });
    expect(parseHash('#/chat/42')).toEqual({ name: 'chat', params: { id: '42' } });
    expect(parseHash('#/edit/a%2Fb')).toEqual({ name: 'edit', params: { id: 'a/b' } });
    expect(parseHash('#/character/7?x=1')).toEqual({ name: 'character', params: { id: '7' } });
    expect(parseHash('#/admin')).toEqual({ name: 'admin', params: {} });
    expect(parseHash('#/admin/audit')).toEqual({ name: 'admin', params: { tab: 'audit' } });
    expect(parseHash('#/admin/nope').name).toBe('notfound');
  });

  it('unknown paths are not found, not a crash', () => {
    expect(parseHash('#/chat/').name).toBe('notfound');
    expect(parseHash('#/nope').name).toBe('notfound');
    expect(parseHash('#javascript:alert(1)').name).toBe('notfound');
  });
});
