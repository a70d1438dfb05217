using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Accounts;

/// <summary>A user as the admin page lists it.</summary>
public sealed record UserSummary(string Id, string Email, IReadOnlyList<string> Roles, bool LockedOut);

/// <summary>
/// What admins do to accounts. It refuses to remove the last Admin, which would lock everyone out. Taking access away
/// (a role change, a deletion, a lock) renews the user's security stamp and revokes their sessions at once, so that a
/// cookie or an open page does not keep the old access. Every change is audited under the acting admin's name.
/// </summary>
public sealed class UserAdministration(UserManager<DrWebUser> users, AccountSetup accounts, SessionRevocations revocations, AuditLog audit,
    SignInLockout signInLockout)
{
    public async Task<List<UserSummary>> ListAsync()
    {
        var list = new List<UserSummary>();
        foreach (var u in await users.Users.OrderBy(u => u.Email).ToListAsync())
            list.Add(new UserSummary(u.Id, u.Email ?? u.UserName ?? u.Id, (await users.GetRolesAsync(u)).Order().ToList(), await users.IsLockedOutAsync(u)));
        return list;
    }

    public async Task<IdentityResult> CreateAsync(string actor, string email, string password, IReadOnlyCollection<string> roles)
    {
        if (roles.Count == 0) return Failed("Choose at least one role.");
        if (roles.Any(r => !AccountSetup.Roles.Contains(r))) return Failed("Unknown role.");
        var created = await accounts.CreateAsync(email.Trim(), password, [.. roles]);
        if (created.Succeeded)
            await audit.RecordAsync(AuditAction.UserCreated, actor, email.Trim(), "roles: " + string.Join(", ", roles.Order()));
        return created;
    }

    public async Task<IdentityResult> SetRolesAsync(string actor, string userId, IReadOnlyCollection<string> roles)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (roles.Any(r => !AccountSetup.Roles.Contains(r))) return Failed("Unknown role.");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(AccountSetup.Admin) && !roles.Contains(AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var removed = await users.RemoveFromRolesAsync(user, current.Except(roles));
        var result = removed.Succeeded ? await users.AddToRolesAsync(user, roles.Except(current)) : removed;
        var ended = await EndSessionsAsync(user, result);
        if (ended.Succeeded)
            await audit.RecordAsync(AuditAction.RolesChanged, actor, user.Email,
                $"from {Names(current)} to {Names(roles)}");
        return ended;
    }

    /// <summary>Locks the account until unlocked (and ends its sessions), or unlocks it.</summary>
    public async Task<IdentityResult> SetLockedAsync(string actor, string userId, bool locked)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (!locked)
        {
            var unlocked = await users.SetLockoutEndDateAsync(user, null);
            unlocked = unlocked.Succeeded ? await users.ResetAccessFailedCountAsync(user) : unlocked;
            if (unlocked.Succeeded)
            {
                signInLockout.Unlock(user.UserName ?? "");
                await audit.RecordAsync(AuditAction.UserUnlocked, actor, user.Email);
            }
            return unlocked;
        }
        if (await users.IsInRoleAsync(user, AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var enabled = await users.SetLockoutEnabledAsync(user, true);
        var result = enabled.Succeeded ? await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue) : enabled;
        var ended = await EndSessionsAsync(user, result);
        if (ended.Succeeded) await audit.RecordAsync(AuditAction.UserLocked, actor, user.Email);
        return ended;
    }

    private async Task<IdentityResult> EndSessionsAsync(DrWebUser user, IdentityResult change)
    {
        if (!change.Succeeded) return change;
        var renewed = await users.UpdateSecurityStampAsync(user);
        revocations.Revoke(user.Id, await users.GetSecurityStampAsync(user));
        return renewed;
    }

    public async Task<IdentityResult> DeleteAsync(string actor, string userId)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (await users.IsInRoleAsync(user, AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var deleted = await users.DeleteAsync(user);
        if (deleted.Succeeded)
        {
            revocations.Revoke(user.Id, currentStamp: null);
            await audit.RecordAsync(AuditAction.UserDeleted, actor, user.Email);
        }
        return deleted;
    }

    private static string Names(IEnumerable<string> roles) => roles.Any() ? string.Join(", ", roles.Order()) : "no role";

    private async Task<bool> IsLastAdminAsync() => (await users.GetUsersInRoleAsync(AccountSetup.Admin)).Count <= 1;

    private static IdentityResult Failed(string message) => IdentityResult.Failed(new IdentityError { Description = message });
}
