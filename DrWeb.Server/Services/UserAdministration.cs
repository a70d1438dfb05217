using DrWeb.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Services;

/// <summary>A user as the admin page lists it.</summary>
public sealed record UserSummary(string Id, string Email, IReadOnlyList<string> Roles, bool LockedOut);

/// <summary>What admins do to accounts. It refuses to remove the last Admin, which would lock everyone out.</summary>
public sealed class UserAdministration(UserManager<DrWebUser> users, AccountSetup accounts)
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
        return removed.Succeeded ? await users.AddToRolesAsync(user, roles.Except(current)) : removed;
    }

    public async Task<IdentityResult> DeleteAsync(string userId)
    {
        if (await users.FindByIdAsync(userId) is not { } user) return Failed("No such user.");
        if (await users.IsInRoleAsync(user, AccountSetup.Admin) && await IsLastAdminAsync())
            return Failed("This is the last administrator; make someone else Admin first.");
        return await users.DeleteAsync(user);
    }

    private async Task<bool> IsLastAdminAsync() => (await users.GetUsersInRoleAsync(AccountSetup.Admin)).Count <= 1;

    private static IdentityResult Failed(string message) => IdentityResult.Failed(new IdentityError { Description = message });
}
