using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <summary>
    /// The photographs' link to their exam as a foreign key. SQLite can add one only by rebuilding the Cases table, which
    /// cannot run in a transaction, so it is a migration of its own: the exams and their data (the previous migration)
    /// are committed first, whatever happens here.
    /// </summary>
    public partial class ExamsForeignKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddForeignKey(
                name: "FK_Cases_Exams_ExamId",
                table: "Cases",
                column: "ExamId",
                principalTable: "Exams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Cases_Exams_ExamId",
                table: "Cases");
        }
    }
}
