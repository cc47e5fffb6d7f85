; NSIS script for Depot's Windows setup (per-user install, no administrator rights needed).
;
;   1. on Windows: pip install pyinstaller && pyinstaller installers\depot.spec --noconfirm ^
;        --distpath build\pyinstaller\dist --workpath build\pyinstaller\work
;      (gives build\pyinstaller\dist\depot\ with depot.exe and depot-cli.exe; see installers/README.md)
;   2. makensis -DVERSION=0.1.0 installers\windows\depot.nsi   -> dist\depot-setup-0.1.0.exe
;      (makensis also runs on Linux: installers/windows/build_setup.sh; -DBUNDLE=DIR and -DOUTFILE=FILE
;      override the bundle folder and the output file)
;
; Why NSIS and not Inno Setup: makensis is a Debian package, so the script is compiled and the setup is
; installed, upgraded and uninstalled under Wine by tests/test_windows_setup.py on the Linux machines
; Depot is built on; Inno Setup's compiler runs on Windows only and was never compiled here.
;
; What it does: installs into %LOCALAPPDATA%\Programs\Depot, a Start-menu folder (Depot, a Depot command
; prompt with depot-cli, the uninstaller), an optional desktop icon, an entry in "Apps and features".
; Data (%LOCALAPPDATA%\Depot: the database, backups, logs) and settings (%APPDATA%\Depot) live outside
; the program folder: an upgrade replaces the program only, and the uninstaller leaves them unless the
; user says to remove them (silent: /REMOVEDATA). A setup run over an older one is the upgrade; the next
; start backs up and upgrades an older database after asking.

Unicode true
Target amd64-unicode  ; Depot's Windows bundle is 64-bit; a 64-bit setup also runs under a plain 64-bit Wine
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef BUNDLE
  !define BUNDLE "..\..\build\pyinstaller\dist\depot"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\dist\depot-setup-${VERSION}.exe"
!endif
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Depot"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

Name "Depot ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Depot"
InstallDirRegKey HKCU "${UNINSTKEY}" "InstallLocation"
BrandingText "Depot ${VERSION}"

!define MUI_ICON "..\..\resources\icons\depot.ico"
!define MUI_UNICON "..\..\resources\icons\depot.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\depot.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start Depot now"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "Depot"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "Depot setup"
VIAddVersionKey "CompanyName" "Depot"
VIAddVersionKey "LegalCopyright" "Depot"

; A running Depot holds its program files: ask the user to close it (a database is never cut off mid-write
; by the setup). Windows refuses to open a running .exe for writing, which is the test.
!macro WaitForDepotClosed
  ${If} ${FileExists} "$INSTDIR\depot.exe"
    retry:
    ClearErrors
    FileOpen $0 "$INSTDIR\depot.exe" a
    ${If} ${Errors}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "Depot is running. Close it (your work is saved as you go), then choose Retry." /SD IDCANCEL IDRETRY retry
      Abort "Depot is still running; nothing was changed."
    ${EndIf}
    FileClose $0
  ${EndIf}
!macroend

Section "Depot (required)" SecMain
  SectionIn RO
  !insertmacro WaitForDepotClosed
  ; an upgrade replaces the bundle's libraries whole (never the data: that lives in %LOCALAPPDATA%\Depot)
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${BUNDLE}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\Depot"
  CreateShortcut "$SMPROGRAMS\Depot\Depot.lnk" "$INSTDIR\depot.exe" "" "$INSTDIR\depot.exe" 0
  CreateShortcut "$SMPROGRAMS\Depot\Depot command prompt.lnk" "$SYSDIR\cmd.exe" '/k ""$INSTDIR\depot-cli.exe" --help"' "$INSTDIR\depot.exe" 0
  CreateShortcut "$SMPROGRAMS\Depot\Uninstall Depot.lnk" "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "Depot"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "Depot"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\depot.exe"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section /o "Desktop icon" SecDesktop
  CreateShortcut "$DESKTOP\Depot.lnk" "$INSTDIR\depot.exe" "" "$INSTDIR\depot.exe" 0
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "The Depot program, its Start-menu entries and its uninstaller."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "An icon on the desktop that starts Depot."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  ; /DESKTOP on a silent install ticks the desktop icon
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/DESKTOP" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecDesktop} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

Var RemoveData

Function un.onInit
  StrCpy $RemoveData 0
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/REMOVEDATA" $1
  ${IfNot} ${Errors}
    StrCpy $RemoveData 1
  ${Else}
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Also remove this computer's Depot data (the branch database, its backups in the default folder, logs and settings)?$\r$\n$\r$\nChoose No to keep them (a later install finds them again). Backups on a network share are never touched." /SD IDNO IDNO keep
    StrCpy $RemoveData 1
    keep:
  ${EndIf}
FunctionEnd

Section "Uninstall"
  !insertmacro WaitForDepotClosed
  Delete "$SMPROGRAMS\Depot\Depot.lnk"
  Delete "$SMPROGRAMS\Depot\Depot command prompt.lnk"
  Delete "$SMPROGRAMS\Depot\Uninstall Depot.lnk"
  RMDir "$SMPROGRAMS\Depot"
  Delete "$DESKTOP\Depot.lnk"
  RMDir /r "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
  ${If} $RemoveData == 1
    RMDir /r "$LOCALAPPDATA\Depot"
    RMDir /r "$APPDATA\Depot"
  ${EndIf}
SectionEnd
