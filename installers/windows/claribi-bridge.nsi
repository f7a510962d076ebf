; 64-bit per-user installer for claribi-bridge (NSIS 3, built by scripts/build-windows).
; Installs into %LOCALAPPDATA%\Programs\claribi-bridge without administrator rights,
; registers an uninstaller in Apps & features. Silent: claribi-bridge-setup.exe /S
; makensis -DVERSION=x.y.z -DBINARY=path\to\claribi-bridge.exe -DREADME=README.txt -DOUTFILE=...
Target amd64-unicode  ; a 64-bit installer (NSIS 3.08 stubs)
!include "x64.nsh"

Name "claribi-bridge ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\claribi-bridge"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ShowInstDetails show

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\claribi-bridge"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "claribi-bridge needs 64-bit Windows."
    Abort
  ${EndIf}
FunctionEnd

Section "claribi-bridge"
  SetOutPath "$INSTDIR"
  File "/oname=claribi-bridge.exe" "${BINARY}"
  File "/oname=README.txt" "${README}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "claribi-bridge"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "clariBI"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  DetailPrint "Connect a client with:  $INSTDIR\claribi-bridge.exe install claude"
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\claribi-bridge.exe"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
