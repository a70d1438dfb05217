using DrWeb.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Services;

/// <summary>A user as the admin page lists it.</summary>
public sealed record UserSummary(string Id, string Email, IReadOnlyList<string> Roles, bool LockedOut);

/// <summary>
/// What admins do to accounts. It refuses to remove the last Admin, which would lock everyone out. Taking access away
/// (a role change, a deletion, a lock) renews the user's security stamp and revokes their sessions at once, so that a
/// cookie or an open page does not keep the old access.
/// </summary>
public sealed class UserAdministration(UserManager<DrWebUser> users, AccountSetup accounts, SessionRevocations revocations)
{
    public async Task<List<UserSummary>> ListAsync()
    {
        var list = new List<UserSummary>();
        foreach (var u in await users.Users.OrderBy(u => u.Email).ToListAsync())
            list.Add(new UserSummary(u.Id, u.Email ?? u.UserName ?? u.Id, (await users.GetRolesAsync(u)).Order().ToList(), await users.IsLockedOutAsync(u)));
        return list;
    }

    public async Task<IdentityResult> CreateAsync(string email, string password, IReadOnlyCollection<string> roles)
    {
        if (roles.Count == 0) return Failed("Choose at least one role.");
        if (roles.Any(r => !AccountSetup.Roles.Contains(r))) return Failed("Unknown role.");
        return await accounts.CreateAsync(email.Trim(), password, [.. roles]);
    }

    public async Task<IdentityResult> SetRolesAsync(string userId, IReadOnlyCollection<string> roles)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (roles.Any(r => !AccountSetup.Roles.Contains(r))) return Failed("Unknown role.");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(AccountSetup.Admin) && !roles.Contains(AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var removed = await users.RemoveFromRolesAsync(user, current.Except(roles));
        var result = removed.Succeeded ? await users.AddToRolesAsync(user, roles.Except(current)) : removed;
        return await EndSessionsAsync(user, result);
    }

    /// <summary>Locks the account until unlocked (and ends its sessions), or unlocks it.</summary>
    public async Task<IdentityResult> SetLockedAsync(string userId, bool locked)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (!locked)
        {
            var unlocked = await users.SetLockoutEndDateAsync(user, null);
            return unlocked.Succeeded ? await users.ResetAccessFailedCountAsync(user) : unlocked;
        }
        if (await users.IsInRoleAsync(user, AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var enabled = await users.SetLockoutEnabledAsync(user, true);
        var result = enabled.Succeeded ? await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue) : enabled;
        return await EndSessionsAsync(user, result);
    }

    private async Task<IdentityResult> EndSessionsAsync(DrWebUser user, IdentityResult change)
    {
        if (!change.Succeeded) return change;
        var renewed = await users.UpdateSecurityStampAsync(user);
        revocations.Revoke(user.Id, await users.GetSecurityStampAsync(user));
        return renewed;
    }

    public async Task<IdentityResult> DeleteAsync(string userId)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (await users.IsInRoleAsync(user, AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        var deleted = await users.DeleteAsync(user);
        if (deleted.Succeeded) revocations.Revoke(user.Id, currentStamp: null);
        return deleted;
    }

    private async Task<bool> IsLastAdminAsync() => (await users.GetUsersInRoleAsync(AccountSetup.Admin)).Count <= 1;

    private static IdentityResult Failed(string message) => IdentityResult.Failed(new IdentityError { Description = message });
}
