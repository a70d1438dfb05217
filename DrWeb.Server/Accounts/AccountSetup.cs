using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Accounts;

/// <summary>The three roles, and the first Admin: from configuration, or created on the first-run page.</summary>
public sealed class AccountSetup(UserManager<DrWebUser> users, RoleManager<IdentityRole> roles, IConfiguration configuration, ILogger<AccountSetup> logger)
{
    public const string Doctor = "Doctor", Educator = "Educator", Admin = "Admin";
    public static readonly string[] Roles = [Doctor, Educator, Admin];

    public bool AnyUser() => users.Users.Any();

    public Task<bool> AnyUserAsync() => users.Users.AnyAsync();

    public async Task EnsureRolesAndSeededAdminAsync()
    {
        foreach (string role in Roles)
            if (!await roles.RoleExistsAsync(role))
                await roles.CreateAsync(new IdentityRole(role));

        // DrWeb:Admin:Email / DrWeb:Admin:Password (or DrWeb__Admin__Email / DrWeb__Admin__Password in the environment).
        string? email = configuration["DrWeb:Admin:Email"], password = configuration["DrWeb:Admin:Password"];
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(password) || await users.FindByEmailAsync(email) is not null)
            return;
        var result = await CreateAsync(email, password, Admin);
        if (!result.Succeeded)
            logger.LogError("The configured admin could not be created: {Errors}", string.Join("; ", result.Errors.Select(e => e.Description)));
    }

    /// <summary>Creates the first Admin; refused once any user exists, so the page cannot be used to take over.</summary>
    public async Task<IdentityResult> CreateFirstAdminAsync(string email, string password)
    {
        if (AnyUser())
            return IdentityResult.Failed(new IdentityError { Description = "An administrator already exists; sign in instead." });
        return await CreateAsync(email, password, Admin);
    }

    public async Task<IdentityResult> CreateAsync(string email, string password, params string[] userRoles)
    {
        var user = new DrWebUser { UserName = email, Email = email, EmailConfirmed = true };
        var result = await users.CreateAsync(user, password);
        if (result.Succeeded && userRoles.Length > 0)
            result = await users.AddToRolesAsync(user, userRoles);
        return result;
    }
}
